-- guard: table_missing(settings)
-- Key/value settings of the app; `name` and `value` avoid MySQL's reserved `key`.
CREATE TABLE settings (
    name VARCHAR(100) NOT NULL PRIMARY KEY,
    value VARCHAR(1000) NOT NULL
);
