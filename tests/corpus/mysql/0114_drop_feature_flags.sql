-- destructive
DROP TABLE feature_flags;
