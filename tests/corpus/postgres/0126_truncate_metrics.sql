-- destructive
TRUNCATE metrics_2025;
