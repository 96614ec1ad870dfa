CREATE FUNCTION f() RETURNS trigger AS $body$
BEGIN
  NEW.note := 'x;y'; -- a comment; with a semicolon
  RETURN NEW;
END;
$body$ LANGUAGE plpgsql;
DO $$ BEGIN PERFORM 1; END $$;
/* nested /* comment; */ still; */ SELECT E'esc\'aped;';
