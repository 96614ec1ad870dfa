CREATE INDEX tickets_priority_idx ON tickets (priority);
