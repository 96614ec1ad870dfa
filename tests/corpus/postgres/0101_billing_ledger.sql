CREATE TABLE billing.ledger_entries (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    invoice_id BIGINT NOT NULL REFERENCES invoices (id),
    currency billing.currency NOT NULL,
    amount_cents positive_cents NOT NULL,
    amount_eur NUMERIC(12, 2) GENERATED ALWAYS AS (amount_cents / 100.0) STORED,
    CONSTRAINT ledger_entries_amount_check CHECK (amount_cents < 100000000)
);
CREATE INDEX ledger_entries_invoice_idx ON billing.ledger_entries (invoice_id);
