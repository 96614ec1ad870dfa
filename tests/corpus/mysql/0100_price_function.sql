CREATE FUNCTION price_with_tax(cents INT, rate DECIMAL(5,2)) RETURNS BIGINT DETERMINISTIC
BEGIN
    DECLARE total BIGINT;
    SET total = ROUND(cents * (1 + rate / 100));
    RETURN CASE WHEN total < 0 THEN 0 ELSE total END;
END;
