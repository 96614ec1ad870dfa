-- Schemas first: billing objects live in their own namespace.
CREATE SCHEMA IF NOT EXISTS billing;
CREATE SCHEMA audit;
