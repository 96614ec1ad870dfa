ALTER TABLE tickets ADD CONSTRAINT tickets_subject_key UNIQUE (subject);
