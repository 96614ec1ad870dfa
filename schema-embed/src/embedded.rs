//! Reading the blob that `bootschema-build` embeds: the snippet model as data, so that
//! the app's compiler sees a few lines of code however many snippets there are.
//!
//! The writer is `bootschema-build`'s `codegen.rs`; this is the one reader. Format 2
//! (format 1 without the `foreign` part of a record: the tool a file of another tool's
//! folder layout comes from), all integers LEB128 varints (`v`), signed ones
//! zigzag-encoded (`z`):
//!
//! ```text
//! blob      = "BSCH" format:u8 build:(u8 len, bytes)   the writer's crate version
//!             text:(v len, UTF-8)                        every string, each stored once
//!             digests:(v count, count × 32 bytes)        SHA-256 of the checksums
//!             env_prefix:str marks:3×str                 (anchor 0)
//!             records:(v count, v guards, v tables, v statements, record…)
//!                                                        distinct snippets, and how
//!                                                        many of each they hold
//!             lists:3×(v count, count × z(id - previous id - 1)) per dialect, in ALL order
//! str       = v len, z(position in text - anchor)
//! record    = z(version - previous record's), sql:(v len, z(position - end of the
//!             previous record's path)), path:(v len, z(position - end of sql)),
//!             version_text:str description:str (anchor: the path), checksum
//!             legacy_checksum, flags:u8 (1 no transaction, 2 destructive, 4 reapply,
//!             8 history, 16 foreign), [foreign], v count, guard…, v count, statement…
//!             (anchor: the sql)
//! foreign   = u8 tool (index in Tool::ALL), version:str name:str checksum:str
//!             (anchor: the path)
//! checksum  = v 0 (the next digest) | v 2(k + 1) (digest k) | v 1, str (any other text)
//! statement = z(line - previous line), z(start - previous end), z(end - start),
//!             u8 catalog | kind << 2 | has reason << 5 | has tables << 6,
//!             [reason:str], v count, guard…, [v count, object…]
//! guard     = u8 kind | inferred << 4 | has undone_by << 5, v line or statement,
//!             [z(undone_by - version)], the kind's objects, idents or query (str)
//! ident     = v(len << 1 | quoted), z(position - anchor)
//! object    = v(len << 2 | quoted << 1 | has schema), z(position - anchor), [schema:ident]
//! ```
//!
//! Differences of versions wrap (any two `u64` round-trip). A str is usually a slice
//! of its snippet's own text or path (an identifier as spelled in the statement), so
//! its position is a byte or two.
//!
//! Texts are borrowed from the blob (`Cow::Borrowed`); checksums are rebuilt as
//! `sha256:<hex>` into one string, and guards, tables and statements are decoded into
//! one array each, leaked (see `Arena`): a few allocations whatever the number of
//! snippets, and the per-dialect lists share their records. A blob of another format is refused with both formats and
//! versions named; the build refuses it first (`__embedded_snippets!`).

use std::borrow::Cow;
use std::ops::Range;

use crate::snippet::{
    CatalogChange, Foreign, Guard, GuardKind, GuardOrigin, Ident, ObjectName, OnChange, Snippet, SnippetLists,
    Statement, StatementKind, Tool, TransactionMode,
};

/// The first bytes of every blob.
pub(crate) const MAGIC: &[u8; 4] = b"BSCH";

/// The format this bootschema reads. Any change to the layout above takes a new
/// number, here, in `bootschema-build`'s writer and in `__embedded_snippets!`.
pub(crate) const FORMAT: u8 = 2;

/// Decodes a blob written by `bootschema-build`.
pub(crate) fn decode(blob: &'static [u8]) -> Result<SnippetLists, String> {
    let mut r = Reader { blob, at: 0 };
    if r.bytes(MAGIC.len()).ok() != Some(&MAGIC[..]) {
        return Err("the embedded snippets are not a bootschema blob (no `BSCH` header): rebuild the app".into());
    }
    let format = r.u8().map_err(|e| e.at(&r))?;
    let build = r.u8().and_then(|len| r.bytes(usize::from(len))).map_err(|e| e.at(&r))?;
    let build = String::from_utf8_lossy(build);
    if format != FORMAT {
        return Err(format!(
            "the snippets were embedded in format {format} by bootschema-build {build}, but bootschema {} reads \
             format {FORMAT}: use the same version of bootschema and bootschema-build",
            env!("CARGO_PKG_VERSION")
        ));
    }
    read_lists(&mut r).map_err(|e| {
        format!(
            "the embedded snippets are corrupt ({} at byte {} of {}; written by bootschema-build {build}, read by \
             bootschema {}): rebuild the app",
            e.0,
            r.at,
            blob.len(),
            env!("CARGO_PKG_VERSION")
        )
    })
}

/// What went wrong, without where (added by the caller).
struct Bad(&'static str);

impl Bad {
    fn at(self, r: &Reader) -> String {
        format!("the embedded snippets are corrupt ({} at byte {}): rebuild the app", self.0, r.at)
    }
}

type Res<T> = Result<T, Bad>;

struct Reader {
    blob: &'static [u8],
    at: usize,
}

// Written to stay quick in an unoptimised build too (an app's debug build compiles
// bootschema without optimisation): plain indexing, no iterator adapters.
impl Reader {
    fn bytes(&mut self, n: usize) -> Res<&'static [u8]> {
        let end = self.at.checked_add(n).filter(|&end| end <= self.blob.len()).ok_or(Bad("unexpected end"))?;
        let out = &self.blob[self.at..end];
        self.at = end;
        Ok(out)
    }

    #[inline(always)]
    fn u8(&mut self) -> Res<u8> {
        if self.at >= self.blob.len() {
            return Err(Bad("unexpected end"));
        }
        self.at += 1;
        Ok(self.blob[self.at - 1])
    }

    #[inline(always)]
    fn v(&mut self) -> Res<u64> {
        let mut value = 0u64;
        let mut shift = 0;
        while shift < 64 {
            let byte = self.u8()?;
            value |= u64::from(byte & 0x7f) << shift;
            if byte < 0x80 {
                return Ok(value);
            }
            shift += 7;
        }
        Err(Bad("a number too long"))
    }

    #[inline(always)]
    fn z(&mut self) -> Res<i64> {
        let v = self.v()?;
        Ok((v >> 1) as i64 ^ -((v & 1) as i64))
    }

    fn usize(&mut self) -> Res<usize> {
        usize::try_from(self.v()?).map_err(|_| Bad("a count too large"))
    }

    fn u32(&mut self) -> Res<u32> {
        u32::try_from(self.v()?).map_err(|_| Bad("a number too large"))
    }

    /// A count of items that each take at least one byte, so that a corrupt count
    /// cannot make the reader reserve more than the blob holds.
    fn count(&mut self) -> Res<usize> {
        let n = self.usize()?;
        if n > self.blob.len() - self.at {
            return Err(Bad("a count larger than the blob"));
        }
        Ok(n)
    }
}

/// The text and the checksums every record refers to.
struct Tables {
    text: &'static str,
    /// Every digest as `sha256:<hex>`, one after the other.
    hex: &'static str,
    digests: usize,
}

const CHECKSUM_LEN: usize = 7 + 64;

impl Tables {
    /// The text at `anchor + delta`, `len` bytes long.
    fn str(&self, anchor: usize, delta: i64, len: usize) -> Res<&'static str> {
        let start = offset(anchor, delta)?;
        let text: &'static str = self.text;
        start.checked_add(len).and_then(|end| text.get(start..end)).ok_or(Bad("a text out of range"))
    }

    fn digest(&self, index: usize) -> Res<&'static str> {
        let hex: &'static str = self.hex;
        if index >= self.digests {
            return Err(Bad("a digest out of range"));
        }
        Ok(&hex[index * CHECKSUM_LEN..(index + 1) * CHECKSUM_LEN])
    }
}

fn offset(anchor: usize, delta: i64) -> Res<usize> {
    i64::try_from(anchor)
        .ok()
        .and_then(|a| a.checked_add(delta))
        .and_then(|p| usize::try_from(p).ok())
        .ok_or(Bad("a text out of range"))
}

/// The guards, tables and statements of every record, each kind in one array, so that
/// decoding makes a handful of allocations whatever the number of snippets. They are
/// leaked into `'static` slices that the snippets borrow: an embedded set is a
/// `static`, decoded once, and lives as long as the program anyway.
struct Arena {
    guards: Vec<Guard>,
    tables: Vec<ObjectName>,
    statements: Vec<RawStatement>,
}

struct RawStatement {
    line: u32,
    start: u32,
    end: u32,
    catalog: CatalogChange,
    kind: StatementKind,
    destructive: Option<&'static str>,
    guards: Range<usize>,
    tables: Option<Range<usize>>,
}

struct RawForeign {
    tool: Tool,
    version: &'static str,
    name: &'static str,
    checksum: &'static str,
}

struct RawRecord {
    version: u64,
    sql: &'static str,
    path: &'static str,
    version_text: &'static str,
    description: &'static str,
    checksum: &'static str,
    legacy_checksum: &'static str,
    flags: u8,
    foreign: Option<RawForeign>,
    guards: Range<usize>,
    statements: Range<usize>,
}

fn read_lists(r: &mut Reader) -> Res<SnippetLists> {
    let len = r.usize()?;
    let text = std::str::from_utf8(r.bytes(len)?).map_err(|_| Bad("text that is not UTF-8"))?;
    let digests = r.count()?;
    let raw = r.bytes(digests.checked_mul(32).ok_or(Bad("a count too large"))?)?;
    let hex = String::from_utf8(hex(raw, digests)).map_err(|_| Bad("a digest"))?;
    let tables = Tables { text, hex: String::leak(hex), digests };

    let env_prefix = read_str(r, &tables, 0)?;
    let marks = [read_str(r, &tables, 0)?, read_str(r, &tables, 0)?, read_str(r, &tables, 0)?];

    let count = r.count()?;
    // How many of each there are, so that every array is allocated once.
    let mut arena = Arena {
        guards: Vec::with_capacity(r.count()?),
        tables: Vec::with_capacity(r.count()?),
        statements: Vec::with_capacity(r.count()?),
    };
    let mut raw_records = Vec::with_capacity(count);
    let mut cursor = Cursor::default();
    for _ in 0..count {
        raw_records.push(read_record(r, &tables, &mut cursor, &mut arena)?);
    }

    let guards: &'static [Guard] = arena.guards.leak();
    let objects: &'static [ObjectName] = arena.tables.leak();
    let statements: &'static [Statement] = arena
        .statements
        .into_iter()
        .map(|s| Statement {
            line: s.line,
            start: s.start,
            end: s.end,
            guards: Cow::Borrowed(&guards[s.guards]),
            catalog: s.catalog,
            destructive: s.destructive.map(Cow::Borrowed),
            kind: s.kind,
            tables: s.tables.map(|t| Cow::Borrowed(&objects[t])),
        })
        .collect::<Vec<_>>()
        .leak();
    let snippet = |s: &RawRecord| Snippet {
        version: s.version,
        version_text: Cow::Borrowed(s.version_text),
        description: Cow::Borrowed(s.description),
        path: Cow::Borrowed(s.path),
        checksum: Cow::Borrowed(s.checksum),
        legacy_checksum: Cow::Borrowed(s.legacy_checksum),
        sql: Cow::Borrowed(s.sql),
        statements: Cow::Borrowed(&statements[s.statements.clone()]),
        guards: Cow::Borrowed(&guards[s.guards.clone()]),
        transaction: if s.flags & 1 != 0 { TransactionMode::None } else { TransactionMode::Wrapped },
        destructive: s.flags & 2 != 0,
        on_change: if s.flags & 4 != 0 { OnChange::Reapply } else { OnChange::Refuse },
        history: s.flags & 8 != 0,
        foreign: s.foreign.as_ref().map(|f| Foreign {
            tool: f.tool,
            version: Cow::Borrowed(f.version),
            name: Cow::Borrowed(f.name),
            checksum: Cow::Borrowed(f.checksum),
        }),
    };

    let mut lists: [Vec<Snippet>; 3] = Default::default();
    for list in &mut lists {
        let count = r.count()?;
        list.reserve_exact(count);
        let mut previous = -1i64;
        for _ in 0..count {
            let id = previous.checked_add(1).and_then(|p| p.checked_add(r.z().ok()?)).ok_or(Bad("a bad record id"))?;
            let record =
                usize::try_from(id).ok().and_then(|i| raw_records.get(i)).ok_or(Bad("a record id out of range"))?;
            // Every field borrows: no allocation.
            list.push(snippet(record));
            previous = id;
        }
    }
    if r.at != r.blob.len() {
        return Err(Bad("bytes after the end"));
    }
    let [postgres, mysql, sqlite] = lists;
    Ok(SnippetLists {
        env_prefix: Cow::Borrowed(env_prefix),
        postgres: Cow::Owned(postgres),
        mysql: Cow::Owned(mysql),
        sqlite: Cow::Owned(sqlite),
        marks: marks.map(Cow::Borrowed),
    })
}

/// `sha256:<hex>` of each of the `count` digests of `raw`, one after the other.
fn hex(raw: &[u8], count: usize) -> Vec<u8> {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut out = vec![0; count * CHECKSUM_LEN];
    // Indexing a slice, not the `Vec`: no call per byte in an unoptimised build.
    let buf: &mut [u8] = &mut out;
    let mut at = 0;
    let mut i = 0;
    while i < raw.len() {
        if i % 32 == 0 {
            buf[at..at + 7].copy_from_slice(b"sha256:");
            at += 7;
        }
        buf[at] = HEX[(raw[i] >> 4) as usize];
        buf[at + 1] = HEX[(raw[i] & 0xf) as usize];
        at += 2;
        i += 1;
    }
    out
}

fn read_str(r: &mut Reader, t: &Tables, anchor: usize) -> Res<&'static str> {
    let len = r.usize()?;
    let delta = r.z()?;
    t.str(anchor, delta, len)
}

/// Where the previous record left off: its version, the end of its path in the text,
/// and how many digests the records so far introduced.
#[derive(Default)]
struct Cursor {
    version: u64,
    text: usize,
    digests: usize,
}

fn read_checksum(r: &mut Reader, t: &Tables, anchor: usize, cursor: &mut Cursor) -> Res<&'static str> {
    match r.usize()? {
        0 => {
            cursor.digests += 1;
            t.digest(cursor.digests - 1)
        }
        1 => read_str(r, t, anchor),
        x if x % 2 == 0 => t.digest(x / 2 - 1),
        _ => Err(Bad("a bad checksum tag")),
    }
}

fn read_record(r: &mut Reader, t: &Tables, cursor: &mut Cursor, arena: &mut Arena) -> Res<RawRecord> {
    let version = cursor.version.wrapping_add_signed(r.z()?);
    let len = r.usize()?;
    let at = offset(cursor.text, r.z()?)?;
    let sql = t.str(at, 0, len)?;
    let len = r.usize()?;
    let path_at = offset(at + sql.len(), r.z()?)?;
    let path = t.str(path_at, 0, len)?;
    let version_text = read_str(r, t, path_at)?;
    let description = read_str(r, t, path_at)?;
    let checksum = read_checksum(r, t, at, cursor)?;
    let legacy_checksum = read_checksum(r, t, at, cursor)?;
    let flags = r.u8()?;
    if flags & !0b1_1111 != 0 {
        return Err(Bad("unknown snippet flags"));
    }
    let foreign = if flags & 16 != 0 {
        let tool = *Tool::ALL.get(usize::from(r.u8()?)).ok_or(Bad("an unknown tool"))?;
        Some(RawForeign {
            tool,
            version: read_str(r, t, path_at)?,
            name: read_str(r, t, path_at)?,
            checksum: read_str(r, t, path_at)?,
        })
    } else {
        None
    };
    let guards = read_guards(r, t, at, version, arena)?;
    let count = r.count()?;
    let first = arena.statements.len();
    let (mut line, mut end) = (0i64, 0i64);
    for _ in 0..count {
        let statement = read_statement(r, t, at, version, &mut line, &mut end, arena)?;
        arena.statements.push(statement);
    }
    *cursor = Cursor { version, text: path_at + path.len(), digests: cursor.digests };
    Ok(RawRecord {
        version,
        sql,
        path,
        version_text,
        description,
        checksum,
        legacy_checksum,
        flags,
        foreign,
        guards,
        statements: first..arena.statements.len(),
    })
}

fn u32_of(value: i64) -> Res<u32> {
    u32::try_from(value).map_err(|_| Bad("a number out of range"))
}

fn read_statement(
    r: &mut Reader,
    t: &Tables,
    at: usize,
    version: u64,
    line: &mut i64,
    end: &mut i64,
    arena: &mut Arena,
) -> Res<RawStatement> {
    *line = line.checked_add(r.z()?).ok_or(Bad("a bad line"))?;
    let start = end.checked_add(r.z()?).ok_or(Bad("a bad range"))?;
    *end = start.checked_add(r.z()?).ok_or(Bad("a bad range"))?;
    let packed = r.u8()?;
    let catalog = match packed & 0b11 {
        0 => CatalogChange::Adds,
        1 => CatalogChange::Removes,
        2 => CatalogChange::Unknown,
        _ => return Err(Bad("an unknown catalog change")),
    };
    let kind = match (packed >> 2) & 0b111 {
        0 => StatementKind::Schema,
        1 => StatementKind::Rows,
        2 => StatementKind::Routine,
        3 => StatementKind::Block,
        4 => StatementKind::Other,
        _ => return Err(Bad("an unknown statement kind")),
    };
    if packed >> 7 != 0 {
        return Err(Bad("unknown statement flags"));
    }
    let destructive = if packed & (1 << 5) != 0 { Some(read_str(r, t, at)?) } else { None };
    let guards = read_guards(r, t, at, version, arena)?;
    let tables = if packed & (1 << 6) != 0 {
        let count = r.count()?;
        let first = arena.tables.len();
        for _ in 0..count {
            let object = read_object(r, t, at)?;
            arena.tables.push(object);
        }
        Some(first..arena.tables.len())
    } else {
        None
    };
    Ok(RawStatement {
        line: u32_of(*line)?,
        start: u32_of(start)?,
        end: u32_of(*end)?,
        catalog,
        kind,
        destructive,
        guards,
        tables,
    })
}

fn read_guards(r: &mut Reader, t: &Tables, at: usize, version: u64, arena: &mut Arena) -> Res<Range<usize>> {
    let count = r.count()?;
    let first = arena.guards.len();
    for _ in 0..count {
        let guard = read_guard(r, t, at, version)?;
        arena.guards.push(guard);
    }
    Ok(first..arena.guards.len())
}

fn read_guard(r: &mut Reader, t: &Tables, at: usize, version: u64) -> Res<Guard> {
    let tag = r.u8()?;
    if tag >> 6 != 0 {
        return Err(Bad("unknown guard flags"));
    }
    let origin = r.u32()?;
    let origin = if tag & (1 << 4) != 0 {
        GuardOrigin::Inferred { statement: origin }
    } else {
        GuardOrigin::Written { line: origin }
    };
    let undone_by = if tag & (1 << 5) != 0 {
        // Wrapping, as the writer computes the difference: any two versions round-trip.
        Some(version.wrapping_add_signed(r.z()?))
    } else {
        None
    };
    let kind = match tag & 0b1111 {
        0 => GuardKind::TableMissing(read_object(r, t, at)?),
        1 => GuardKind::ColumnMissing { table: read_object(r, t, at)?, column: read_ident(r, t, at)? },
        2 => GuardKind::IndexMissing(read_object(r, t, at)?),
        3 => GuardKind::ConstraintMissing { table: read_object(r, t, at)?, constraint: read_ident(r, t, at)? },
        4 => GuardKind::Unless(Cow::Borrowed(read_str(r, t, at)?)),
        5 => GuardKind::SchemaMissing(read_ident(r, t, at)?),
        6 => GuardKind::TypeMissing(read_object(r, t, at)?),
        7 => GuardKind::ColumnRenamed {
            table: read_object(r, t, at)?,
            from: read_ident(r, t, at)?,
            to: read_ident(r, t, at)?,
        },
        8 => GuardKind::TableRenamed { from: read_object(r, t, at)?, to: read_object(r, t, at)? },
        9 => GuardKind::IndexRenamed { from: read_object(r, t, at)?, to: read_object(r, t, at)? },
        _ => return Err(Bad("an unknown guard kind")),
    };
    Ok(Guard { kind, origin, undone_by })
}

fn read_ident(r: &mut Reader, t: &Tables, at: usize) -> Res<Ident> {
    let head = r.usize()?;
    let delta = r.z()?;
    Ok(Ident { value: Cow::Borrowed(t.str(at, delta, head >> 1)?), quoted: head & 1 != 0 })
}

fn read_object(r: &mut Reader, t: &Tables, at: usize) -> Res<ObjectName> {
    let head = r.usize()?;
    let delta = r.z()?;
    let name = Ident { value: Cow::Borrowed(t.str(at, delta, head >> 2)?), quoted: head & 2 != 0 };
    let schema = if head & 1 != 0 { Some(read_ident(r, t, at)?) } else { None };
    Ok(ObjectName { schema, name })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_blob_of_another_format_names_both_formats_and_versions() {
        let blob: &'static [u8] = b"BSCH\x07\x059.9.9rest";
        let err = decode(blob).unwrap_err();
        assert!(err.contains("format 7 by bootschema-build 9.9.9"), "{err}");
        assert!(err.contains(&format!("bootschema {} reads format {FORMAT}", env!("CARGO_PKG_VERSION"))), "{err}");
    }

    #[test]
    fn what_is_not_a_blob_is_refused() {
        assert!(decode(b"").unwrap_err().contains("not a bootschema blob"));
        assert!(decode(b"// Generated").unwrap_err().contains("not a bootschema blob"));
    }

    #[test]
    fn a_truncated_blob_is_corrupt_not_a_panic() {
        let err = decode(b"BSCH\x02\x050.1.0\x05ab").unwrap_err();
        assert!(err.contains("corrupt (unexpected end"), "{err}");
        let err = decode(b"BSCH\x02\x050.1.0\x02\xff\xfe").unwrap_err();
        assert!(err.contains("not UTF-8"), "{err}");
    }

    #[test]
    fn the_format_the_macro_accepts_is_the_one_the_reader_reads() {
        // `__embedded_snippets!` matches the literal `2`: keep it equal to FORMAT.
        let set: crate::SnippetSet = crate::__embedded_snippets!(format = 2, build = "0.0.0", blob = b"BSCH\x03\x00");
        let err = set.try_lists().unwrap_err();
        assert!(err.contains("format 3"), "{err}");
        assert_eq!(FORMAT, 2);
    }
}
