//! The checksum ignores a BOM, CRLF line ends and the whitespace at the very end of the
//! file (an editor's final newline), and nothing else.

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
fn whitespace_at_the_end_of_the_file_is_not_an_edit() {
    let without_final_newline = TEXT.strip_suffix(b"\n").unwrap();
    for changed in [[TEXT, b" \n"].concat(), [TEXT, b"\n\n"].concat(), without_final_newline.to_vec()] {
        assert_eq!(checksum(&changed), checksum(TEXT), "{:?}", String::from_utf8_lossy(&changed));
    }
}

#[test]
fn whitespace_at_the_end_of_an_inner_line_changes_the_checksum() {
    let changed = String::from_utf8(TEXT.to_vec()).unwrap().replacen("\n", " \n", 1);
    assert_ne!(checksum(changed.as_bytes()), checksum(TEXT));
}

#[test]
fn lone_carriage_return_inside_is_kept() {
    let changed = String::from_utf8(TEXT.to_vec()).unwrap().replacen("\n", "\r", 1);
    assert_ne!(checksum(changed.as_bytes()), checksum(TEXT));
}

#[test]
fn the_legacy_checksum_is_the_one_of_the_untrimmed_text() {
    let sql = SqlFolder::new();
    sql.file("0001_users.sql", TEXT);
    let snippet = sql.scan().set.postgres[0].clone();
    assert_ne!(snippet.legacy_checksum, snippet.checksum, "the file ends with a newline");
    // The old checksum of the text without its final newline is the new checksum.
    let trimmed = SqlFolder::new();
    trimmed.file("0001_users.sql", TEXT.strip_suffix(b"\n").unwrap());
    assert_eq!(trimmed.scan().set.postgres[0].legacy_checksum, snippet.checksum);
}
