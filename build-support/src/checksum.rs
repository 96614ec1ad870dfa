//! Step 5: the checksum that tells the runtime whether an applied snippet was edited.

use sha2::{Digest, Sha256};

/// `sha256:<lowercase hex>` of a snippet's normalised text (BOM removed, CRLF turned
/// into LF, directives included).
pub(crate) fn checksum(normalised: &str) -> String {
    let digest = Sha256::digest(normalised.as_bytes());
    let mut out = String::with_capacity(7 + 64);
    out.push_str("sha256:");
    for byte in digest {
        out.push(char::from(HEX[usize::from(byte >> 4)]));
        out.push(char::from(HEX[usize::from(byte & 0xf)]));
    }
    out
}

const HEX: &[u8; 16] = b"0123456789abcdef";

fn hex(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() * 2);
    for byte in bytes {
        out.push(char::from(HEX[usize::from(byte >> 4)]));
        out.push(char::from(HEX[usize::from(byte & 0xf)]));
    }
    out
}

/// sqlx's checksum of a migration: SHA-384 of the file's text exactly as sqlx reads it
/// (`fs::read_to_string`: a BOM and CRLF line ends included), in lowercase hex, the
/// way bootschema shows the `bytea` / `BLOB` of `_sqlx_migrations.checksum`. (sqlx's
/// optional `migrate.ignored-chars` setting, which leaves characters out of the hash,
/// is not read: a folder hashed with it reports a mismatch.)
pub(crate) fn sqlx(raw: &str) -> String {
    use sha2::Sha384;
    hex(&Sha384::digest(raw.as_bytes()))
}

/// Flyway's checksum: CRC-32 (IEEE) over the file's lines read as Java's
/// `BufferedReader.readLine` reads them (the line ends `\n`, `\r`, `\r\n` left out), a
/// UTF-8 BOM removed from the first line, as UTF-8; stored by Flyway as a signed 32-bit
/// integer, which this gives in decimal.
pub(crate) fn flyway(raw: &str) -> String {
    let text = raw.strip_prefix('\u{feff}').unwrap_or(raw);
    let mut crc = !0u32;
    for &byte in text.as_bytes() {
        if byte == b'\n' || byte == b'\r' {
            continue;
        }
        crc = CRC32_TABLE[usize::from((crc as u8) ^ byte)] ^ (crc >> 8);
    }
    (!crc as i32).to_string()
}

/// The CRC-32 table of the reflected IEEE polynomial (`0xEDB88320`).
const CRC32_TABLE: [u32; 256] = {
    let mut table = [0u32; 256];
    let mut n = 0;
    while n < 256 {
        let mut c = n as u32;
        let mut k = 0;
        while k < 8 {
            c = if c & 1 != 0 { 0xEDB8_8320 ^ (c >> 1) } else { c >> 1 };
            k += 1;
        }
        table[n] = c;
        n += 1;
    }
    table
};

/// refinery's checksum of the file `stem` (`V3__add_email`) with text `raw` (as
/// refinery embeds it: the file's bytes as they are), computed by refinery's own
/// `Migration::unapplied`, as a decimal `u64` (how refinery stores it).
#[cfg(feature = "refinery")]
pub(crate) fn refinery(stem: &str, raw: &str) -> Result<String, String> {
    refinery_core::Migration::unapplied(stem, raw)
        .map(|m| m.checksum().to_string())
        .map_err(|err| format!("refinery cannot read it: {err}"))
}

/// Without the `refinery` feature, refinery's checksum cannot be computed.
#[cfg(not(feature = "refinery"))]
pub(crate) fn refinery(_stem: &str, _raw: &str) -> Result<String, String> {
    Err("refinery's folders need bootschema-build's `refinery` feature, which computes refinery's checksums with \
         refinery's own code"
        .to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc32_of_the_standard_check_input() {
        // CRC-32/ISO-HDLC of "123456789" is 0xCBF43926, as a signed 32-bit integer.
        assert_eq!(flyway("123456789"), (0xCBF4_3926u32 as i32).to_string());
        // Line ends and a BOM are not part of Flyway's checksum.
        assert_eq!(flyway("\u{feff}1234\r\n56789\n"), flyway("123456789"));
        assert_eq!(flyway(""), "0");
    }

    #[test]
    fn sqlx_hashes_the_bytes_as_they_are() {
        assert_eq!(
            sqlx(""),
            "38b060a751ac96384cd9327eb1b1e36a21fdb71114be07434c0cc7bf63f6e1da274edebfe76f65fbd51ad2f14898b95b"
        );
        assert_ne!(sqlx("a\r\n"), sqlx("a\n"));
    }

    #[test]
    fn checksum_is_prefixed_lowercase_hex_sha256() {
        assert_eq!(checksum(""), "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    }
}
