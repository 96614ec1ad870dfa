-- guard: table_missing(user_stats)
-- on_change: reapply
-- A view: edit it freely, it is re-created whenever this text changes.
DROP VIEW IF EXISTS user_stats;
CREATE VIEW user_stats AS
    SELECT COUNT(*) AS users, COUNT(email) AS with_email FROM users;
