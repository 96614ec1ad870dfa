CREATE OR REPLACE VIEW payments_summary AS
    SELECT id, provider, amount_cents FROM payments WHERE amount_cents IS NOT NULL;
