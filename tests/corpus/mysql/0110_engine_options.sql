-- A table option the parser cannot read: the build warns, the snippet runs once.
ALTER TABLE app_settings ENGINE = InnoDB;
