CREATE TABLE app_settings (name VARCHAR(100) NOT NULL, value VARCHAR(1000) NOT NULL) ENGINE = InnoDB;
ALTER TABLE app_settings ADD PRIMARY KEY (name);
INSERT INTO app_settings (name, value) VALUES ('currency', 'EUR'), ('locale', 'fr')
    ON DUPLICATE KEY UPDATE value = VALUES(value);
