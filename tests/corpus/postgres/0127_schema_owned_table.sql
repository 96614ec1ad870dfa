CREATE TABLE billing.tax_rates (country VARCHAR(2) PRIMARY KEY, rate NUMERIC(5, 2) NOT NULL);
ALTER TABLE billing.tax_rates ADD CONSTRAINT tax_rates_rate_check CHECK (rate BETWEEN 0 AND 100);
