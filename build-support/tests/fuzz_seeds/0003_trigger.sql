CREATE TABLE t (id INT, n INT);
CREATE TRIGGER t_bump BEFORE INSERT ON t FOR EACH ROW BEGIN SET NEW.n = NEW.n + 1; END;
INSERT INTO t VALUES (1, 'a\'b;c'), (2, "d;e") # mysql comment; here
