-- destructive
DROP TABLE "LegacyImport";
