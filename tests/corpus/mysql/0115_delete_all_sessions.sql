-- destructive: sessions are re-created at login
CREATE TABLE web_sessions (id VARCHAR(64) NOT NULL PRIMARY KEY, data TEXT) ENGINE = InnoDB;
DELETE FROM web_sessions;
