-- guard: table_missing(feature_flags)
CREATE TABLE feature_flags (name TEXT PRIMARY KEY, enabled BOOLEAN NOT NULL DEFAULT false);
CREATE INDEX feature_flags_enabled_idx ON feature_flags (enabled);
