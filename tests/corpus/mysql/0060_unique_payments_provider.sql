ALTER TABLE payments ADD CONSTRAINT payments_provider_key UNIQUE (provider);
