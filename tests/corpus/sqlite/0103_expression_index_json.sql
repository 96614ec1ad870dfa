ALTER TABLE tickets ADD COLUMN meta TEXT NOT NULL DEFAULT '{}';
CREATE INDEX tickets_meta_channel_idx ON tickets (json_extract(meta, '$.channel')) WHERE json_valid(meta);
