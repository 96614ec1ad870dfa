-- destructive
ALTER TABLE promo_codes CHANGE expires_on expires_at DATETIME NULL;
