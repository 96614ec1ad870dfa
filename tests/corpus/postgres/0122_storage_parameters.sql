-- Read, but not an operation whose effect a guard can check: the snippet runs once.
ALTER TABLE app_settings SET (fillfactor = 90);
