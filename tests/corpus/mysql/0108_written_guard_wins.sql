-- guard: table_missing(feature_flags)
CREATE TABLE feature_flags (name VARCHAR(100) NOT NULL PRIMARY KEY, enabled BOOLEAN NOT NULL DEFAULT FALSE) ENGINE = InnoDB;
CREATE INDEX feature_flags_enabled_idx ON feature_flags (enabled);
