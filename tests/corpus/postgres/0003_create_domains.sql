CREATE DOMAIN positive_cents AS INTEGER CHECK (VALUE >= 0);
CREATE TYPE money_range AS RANGE (subtype = numeric);
