CREATE TABLE audit.events (
    id BIGSERIAL PRIMARY KEY,
    table_name TEXT NOT NULL,
    row_id BIGINT,
    payload JSONB NOT NULL DEFAULT '{}',
    at TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX events_payload_idx ON audit.events USING gin (payload jsonb_path_ops);
CREATE OR REPLACE FUNCTION audit.record() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
    INSERT INTO audit.events (table_name, row_id, payload) VALUES (TG_TABLE_NAME, NEW.id, to_jsonb(NEW));
    RETURN NEW;
END
$fn$;
