CREATE TABLE "LegacyImport" ([Id] INTEGER PRIMARY KEY, `Payload` TEXT);
ALTER TABLE "LegacyImport" ADD COLUMN "ImportedAt" TEXT;
