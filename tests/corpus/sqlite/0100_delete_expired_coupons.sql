DELETE FROM promo_codes WHERE expires_on < '2000-01-01';
