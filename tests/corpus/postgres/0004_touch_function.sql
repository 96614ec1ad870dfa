-- on_change: reapply
CREATE OR REPLACE FUNCTION touch_updated_at() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    -- keep updated_at honest; the ';' in this comment must not split anything
    NEW.updated_at := now();
    RETURN NEW;
END;
$$;
