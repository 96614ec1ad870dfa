ALTER TABLE invoices ADD INDEX invoices_number_prefix_idx (number(20));
