-- A DO block cannot be guarded: it runs once.
DO $body$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'bs_corpus_reader') THEN
        RAISE NOTICE 'no reader role; nothing to grant';
    END IF;
END
$body$;
