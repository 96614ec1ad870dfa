//! The checksum ignores a BOM and CRLF line ends, and nothing else.

mod common;

use common::SqlFolder;

fn checksum(contents: &[u8]) -> String {
    let sql = SqlFolder::new();
    sql.file("0001_users.sql", contents);
    sql.scan().set.postgres[0].checksum.to_string()
}

const TEXT: &[u8] = b"-- guard: table_missing(users)\nCREATE TABLE users (id INT, name TEXT DEFAULT 'a  b');\n";

#[test]
fn checksum_is_sha256_of_the_text() {
    let c = checksum(TEXT);
    assert!(c.starts_with("sha256:") && c.len() == 7 + 64, "{c}");
    assert!(c[7..].chars().all(|ch| ch.is_ascii_digit() || ('a'..='f').contains(&ch)), "{c}");
}

#[test]
fn crlf_line_ends_give_the_same_checksum() {
    let crlf = String::from_utf8(TEXT.to_vec()).unwrap().replace('\n', "\r\n");
    assert_eq!(checksum(crlf.as_bytes()), checksum(TEXT));
}

#[test]
fn bom_gives_the_same_checksum() {
    let with_bom = [b"\xef\xbb\xbf".as_slice(), TEXT].concat();
    assert_eq!(checksum(&with_bom), checksum(TEXT));
}

#[test]
fn changed_directive_changes_the_checksum() {
    let changed = String::from_utf8(TEXT.to_vec()).unwrap().replace("table_missing(users)", "table_missing(people)");
    assert_ne!(checksum(changed.as_bytes()), checksum(TEXT));
}

#[test]
fn whitespace_inside_a_string_changes_the_checksum() {
    let changed = String::from_utf8(TEXT.to_vec()).unwrap().replace("'a  b'", "'a b'");
    assert_ne!(checksum(changed.as_bytes()), checksum(TEXT));
}

#[test]
fn trailing_whitespace_changes_the_checksum() {
    let changed = [TEXT, b" \n"].concat();
    assert_ne!(checksum(&changed), checksum(TEXT));
}

#[test]
fn lone_carriage_return_is_kept() {
    let changed = [TEXT.strip_suffix(b"\n").unwrap(), b"\r"].concat();
    assert_ne!(checksum(&changed), checksum(TEXT));
}
