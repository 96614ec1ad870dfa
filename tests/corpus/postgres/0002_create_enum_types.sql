CREATE TYPE order_status AS ENUM ('draft', 'placed', 'paid', 'shipped', 'cancelled');
CREATE TYPE billing.currency AS ENUM ('EUR', 'USD', 'GBP');
