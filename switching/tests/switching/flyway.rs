//! Flyway, without Flyway: it is a Java program, and no package of it is on the
//! registries this machine reaches, so it cannot run here. What bootschema reads of it
//! is its folder and its ledger, and both are documented:
//!
//! - the folder: `V<version>__<description>.sql` (dotted versions, compared part by part
//!   as numbers), applied in version order, then the repeatable `R__<description>.sql`
//!   in the order of their descriptions;
//! - the ledger, `flyway_schema_history`: `installed_rank` (primary key), `version`
//!   (NULL for a repeatable), `description` (the file's, underscores as spaces),
//!   `type` (`SQL`), `script` (the file name), `checksum` (CRC-32, below),
//!   `installed_by`, `installed_on`, `execution_time` (ms), `success`; with the index
//!   `flyway_schema_history_s_idx` on `success`;
//! - the checksum: CRC-32 (IEEE, as `java.util.zip.CRC32`) updated with each line's
//!   UTF-8 bytes, the lines read as `BufferedReader.readLine` reads them (without their
//!   `\n`, `\r\n` or `\r`), a byte order mark dropped, stored as a signed 32-bit integer.
//!
//! So "migrating with Flyway" here is: replay the files with the database's own client
//! in Flyway's order, then create the table with that DDL and write one row per file,
//! the checksums computed by [`crc32`] below (written for this test, independently of
//! bootschema's own code).

use std::path::Path;

use crate::common::{Kind, TestDb};

/// CRC-32 (IEEE 802.3, reflected, polynomial 0xEDB88320), bit by bit.
pub fn crc32(bytes: impl IntoIterator<Item = u8>, mut crc: u32) -> u32 {
    crc = !crc;
    for byte in bytes {
        crc ^= u32::from(byte);
        for _ in 0..8 {
            crc = if crc & 1 == 1 { (crc >> 1) ^ 0xEDB8_8320 } else { crc >> 1 };
        }
    }
    !crc
}

/// Flyway's checksum of a file's text: CRC-32 of its lines without their line
/// endings, as a signed integer.
pub fn checksum(text: &str) -> i32 {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut crc = 0;
    let mut rest = text;
    while !rest.is_empty() {
        let end = rest.find(['\n', '\r']).unwrap_or(rest.len());
        crc = crc32(rest[..end].bytes(), crc);
        rest = &rest[end..];
        rest = rest
            .strip_prefix("\r\n")
            .or_else(|| rest.strip_prefix('\n'))
            .or_else(|| rest.strip_prefix('\r'))
            .unwrap_or(rest);
    }
    crc as i32
}

/// A file of a Flyway folder.
pub struct Script {
    pub file: String,
    /// `Some("1.1")` for `V1.1__…`, `None` for a repeatable `R__…`.
    pub version: Option<String>,
    pub description: String,
    pub text: String,
}

/// The folder's scripts in the order Flyway applies them.
pub fn scripts(folder: &Path) -> Vec<Script> {
    let mut scripts: Vec<Script> = std::fs::read_dir(folder)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "sql"))
        .map(|path| {
            let file = path.file_name().unwrap().to_string_lossy().into_owned();
            let (prefix, desc) = file.trim_end_matches(".sql").split_once("__").expect("V<version>__<desc>.sql");
            let version = prefix.strip_prefix('V').map(|v| v.replace('_', "."));
            assert!(version.is_some() || prefix == "R", "{file}: neither versioned nor repeatable");
            Script { version, description: desc.replace('_', " "), text: std::fs::read_to_string(&path).unwrap(), file }
        })
        .collect();
    let key = |s: &Script| {
        let parts: Vec<u64> =
            s.version.as_deref().map(|v| v.split('.').map(|p| p.parse().unwrap()).collect()).unwrap_or_default();
        (s.version.is_none(), parts, s.description.clone())
    };
    scripts.sort_by_key(key);
    scripts
}

/// Flyway's `flyway_schema_history`, as its own DDL for each database creates it.
fn create_table(kind: Kind) -> &'static str {
    match kind {
        Kind::Postgres => {
            "CREATE TABLE flyway_schema_history (\n\
             installed_rank INT NOT NULL,\n version VARCHAR(50),\n description VARCHAR(200) NOT NULL,\n\
             type VARCHAR(20) NOT NULL,\n script VARCHAR(1000) NOT NULL,\n checksum INTEGER,\n\
             installed_by VARCHAR(100) NOT NULL,\n installed_on TIMESTAMP NOT NULL DEFAULT now(),\n\
             execution_time INTEGER NOT NULL,\n success BOOLEAN NOT NULL\n);\n\
             ALTER TABLE flyway_schema_history ADD CONSTRAINT flyway_schema_history_pk PRIMARY KEY (installed_rank);\n\
             CREATE INDEX flyway_schema_history_s_idx ON flyway_schema_history (success);\n"
        }
        Kind::MySql => {
            "CREATE TABLE flyway_schema_history (\n\
             installed_rank INT NOT NULL,\n version VARCHAR(50),\n description VARCHAR(200) NOT NULL,\n\
             type VARCHAR(20) NOT NULL,\n script VARCHAR(1000) NOT NULL,\n checksum INT,\n\
             installed_by VARCHAR(100) NOT NULL,\n installed_on TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,\n\
             execution_time INT NOT NULL,\n success BOOL NOT NULL,\n\
             CONSTRAINT flyway_schema_history_pk PRIMARY KEY (installed_rank)\n) ENGINE=InnoDB;\n\
             CREATE INDEX flyway_schema_history_s_idx ON flyway_schema_history (success);\n"
        }
        Kind::Sqlite => {
            "CREATE TABLE flyway_schema_history (\n\
             installed_rank INT NOT NULL PRIMARY KEY,\n version VARCHAR(50),\n description VARCHAR(200) NOT NULL,\n\
             type VARCHAR(20) NOT NULL,\n script VARCHAR(1000) NOT NULL,\n checksum INT,\n\
             installed_by VARCHAR(100) NOT NULL,\n\
             installed_on TEXT NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%f','now')),\n\
             execution_time INT NOT NULL,\n success BOOLEAN NOT NULL\n);\n\
             CREATE INDEX flyway_schema_history_s_idx ON flyway_schema_history (success);\n"
        }
    }
}

/// What `flyway migrate` leaves: every script run in order by the database's own
/// client, and one ledger row per script.
pub async fn migrate(db: &TestDb, folder: &Path) -> Result<(), String> {
    let scripts = scripts(folder);
    for s in &scripts {
        db.run_client(&s.text).map_err(|e| format!("{}: {e}", s.file))?;
    }
    db.pool.exec(create_table(db.kind)).await.map_err(|e| e.to_string())?;
    let t = if db.kind == Kind::Sqlite { "1" } else { "TRUE" };
    for (rank, s) in scripts.iter().enumerate() {
        let version = s.version.as_deref().map(|v| format!("'{v}'")).unwrap_or_else(|| "NULL".into());
        db.pool
            .exec(&format!(
                "INSERT INTO flyway_schema_history (installed_rank, version, description, type, script, checksum, \
                 installed_by, execution_time, success) VALUES ({}, {version}, '{}', 'SQL', '{}', {}, 'flyway', 12, {t})",
                rank + 1,
                s.description,
                s.file,
                checksum(&s.text),
            ))
            .await
            .map_err(|e| e.to_string())?;
    }
    Ok(())
}

/// The checksum function against values Flyway's algorithm is documented to give:
/// the CRC-32 check value of `123456789`, and line endings that do not count.
#[test]
fn the_test_checksum_is_flyways() {
    assert_eq!(crc32(*b"123456789", 0), 0xCBF4_3926, "the CRC-32 check value");
    assert_eq!(checksum("123456789"), 0xCBF4_3926_u32 as i32);
    assert_eq!(checksum("1234\n56789\n"), checksum("123456789"), "line endings are not hashed");
    assert_eq!(checksum("1234\r\n56789"), checksum("1234\r56789"));
    assert_eq!(checksum("\u{feff}123456789"), checksum("123456789"), "a byte order mark is dropped");
    assert_ne!(checksum("1234 56789"), checksum("123456789"));
}
