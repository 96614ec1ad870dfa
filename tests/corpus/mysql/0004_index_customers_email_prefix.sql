ALTER TABLE customers ADD INDEX customers_email_prefix_idx (email(20));
