-- guard: index_missing(i)
CREATE INDEX i ON t (id);
