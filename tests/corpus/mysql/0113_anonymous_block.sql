-- MariaDB's anonymous block: one statement, run once.
BEGIN NOT ATOMIC
    DECLARE n INT DEFAULT 0;
    SELECT COUNT(*) INTO n FROM orders;
    IF n = 0 THEN
        INSERT INTO app_settings (name, value) VALUES ('empty_shop', 'true');
    END IF;
END;
