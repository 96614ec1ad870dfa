//! Keeping the passwords and tokens of connection strings out of everything printed.
//!
//! Two nets, because a secret can reach a message in two ways: the connection string's
//! own secrets are known and removed wherever they appear, as written and
//! percent-decoded; and anything in the text that *looks* like a secret (the password
//! of a `scheme://user:password@host` URL, the value of `password=…`, `token=…`,
//! `secret=…`) is masked even when no connection string was given.

use std::ops::Range;

/// What replaces a secret.
pub const MASK: &str = "***";

/// `text` with the password and tokens of `url` masked wherever they appear, and any
/// other secret-looking part (`user:password@`, `password=…`, `token=…`) masked too.
///
/// ```
/// let url = "postgres://app:s3cr%40t@db.internal:5432/app";
/// let message = "connecting to postgres://app:s3cr%40t@db.internal:5432/app failed: bad password s3cr@t";
/// assert_eq!(
///     bootschema::redact(message, url),
///     "connecting to postgres://app:***@db.internal:5432/app failed: bad password ***"
/// );
/// ```
pub fn redact(text: &str, url: &str) -> String {
    Redactor::default().with_url(url).redact(text)
}

/// The secrets to mask, learnt from connection strings.
#[derive(Clone, Default, PartialEq, Eq)]
pub(crate) struct Redactor {
    /// Longest first, so that a secret containing another is masked whole.
    secrets: Vec<String>,
}

impl std::fmt::Debug for Redactor {
    // The secrets themselves are never shown, not even in a debug dump.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Redactor({} secret(s))", self.secrets.len())
    }
}

impl Redactor {
    /// Learns the secrets of a connection string: its password and the values of its
    /// secret-looking parameters, as written and percent-decoded.
    pub(crate) fn with_url(mut self, url: &str) -> Redactor {
        for span in secret_spans(url) {
            let written = &url[span];
            self.learn(written.to_string());
            self.learn(percent_decode(written));
        }
        self
    }

    fn learn(&mut self, secret: String) {
        if !secret.is_empty() && secret != MASK && !self.secrets.contains(&secret) {
            self.secrets.push(secret);
            self.secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
        }
    }

    /// `text` with every known secret, and everything that looks like one, masked.
    pub(crate) fn redact(&self, text: &str) -> String {
        let mut out = text.to_string();
        for secret in &self.secrets {
            if out.contains(secret.as_str()) {
                out = out.replace(secret.as_str(), MASK);
            }
        }
        // Mask from the end so that earlier ranges stay valid.
        for span in secret_spans(&out).into_iter().rev() {
            out.replace_range(span, MASK);
        }
        out
    }
}

/// Where `text` holds something that looks like a secret: URL passwords and the values
/// of secret-looking `key=value` pairs (query parameters, libpq keyword strings).
fn secret_spans(text: &str) -> Vec<Range<usize>> {
    let mut spans: Vec<Range<usize>> = url_passwords(text).chain(secret_values(text)).collect();
    spans.retain(|s| !s.is_empty() && &text[s.clone()] != MASK);
    spans.sort_by_key(|s| (s.start, std::cmp::Reverse(s.end)));
    // Merge overlaps: the masked ranges must not intersect.
    let mut merged: Vec<Range<usize>> = Vec::new();
    for span in spans {
        match merged.last_mut() {
            Some(last) if span.start <= last.end => last.end = last.end.max(span.end),
            _ => merged.push(span),
        }
    }
    merged
}

/// Characters that end a URL in running text.
fn ends_url(c: char) -> bool {
    c.is_whitespace() || matches!(c, '"' | '\'' | '`' | '<' | '>' | ',' | ';')
}

/// The password of every `scheme://user:password@host` in `text`.
fn url_passwords(text: &str) -> impl Iterator<Item = Range<usize>> + '_ {
    text.match_indices("://").filter_map(move |(at, _)| {
        let start = at + 3;
        let rest = &text[start..];
        let token_end = rest.find(ends_url).unwrap_or(rest.len());
        let token = &rest[..token_end];
        // The authority ends at the path, query or fragment that follows the last `@`
        // (a password may hold `/`, `?` or `#` when it was not percent-encoded).
        let at_sign = token.rfind('@')?;
        let userinfo = &token[..at_sign];
        let colon = userinfo.find(':')?;
        Some(start + colon + 1..start + at_sign)
    })
}

/// Whether a parameter's name says its value is a secret.
fn is_secret_key(key: &str) -> bool {
    let key: String = key.chars().filter(|c| *c != '_' && *c != '-').collect::<String>().to_ascii_lowercase();
    ["password", "passwd", "secret", "token", "apikey", "credential"].iter().any(|word| key.contains(word))
        || matches!(key.as_str(), "pwd" | "pass")
}

/// The value of every `key=value` in `text` whose key names a secret.
fn secret_values(text: &str) -> impl Iterator<Item = Range<usize>> + '_ {
    text.match_indices('=').filter_map(move |(eq, _)| {
        let before = text[..eq].trim_end_matches(' ');
        let key_start = before
            .char_indices()
            .rev()
            .take_while(|(_, c)| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
            .last()
            .map(|(i, _)| i)?;
        if !is_secret_key(&before[key_start..]) {
            return None;
        }
        let value_start = eq + 1 + (text[eq + 1..].len() - text[eq + 1..].trim_start_matches(' ').len());
        let value = &text[value_start..];
        let len = match value.chars().next() {
            // A quoted value (libpq: password='a b'), up to its closing quote.
            Some(quote @ ('\'' | '"')) => match value[1..].find(quote) {
                Some(close) => close + 2,
                None => value.len(),
            },
            _ => value.find(|c: char| ends_url(c) || matches!(c, '&' | ')' | ']' | '}')).unwrap_or(value.len()),
        };
        Some(value_start..value_start + len)
    })
}

/// `%XX` sequences decoded (as a URL parser would before sending the password).
fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        match (bytes[i], bytes.get(i + 1).copied().and_then(hex), bytes.get(i + 2).copied().and_then(hex)) {
            (b'%', Some(high), Some(low)) => {
                out.push((high * 16 + low) as u8);
                i += 3;
            }
            (b, _, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_url_password_is_masked_in_the_url_and_alone() {
        let url = "mysql://app:Tr0ub4dor@db:3306/app";
        assert_eq!(redact(url, url), "mysql://app:***@db:3306/app");
        assert_eq!(redact("Access denied (password Tr0ub4dor)", url), "Access denied (password ***)");
    }

    #[test]
    fn percent_encoded_passwords_are_masked_in_both_forms() {
        let url = "postgres://u:p%40ss%2Fw0rd@h/db";
        assert_eq!(redact("p@ss/w0rd and p%40ss%2Fw0rd", url), "*** and ***");
    }

    #[test]
    fn any_url_with_a_password_is_masked_even_when_unknown() {
        let text = "could not reach postgresql://admin:hunter2@10.0.0.5/prod, retrying";
        assert_eq!(redact(text, ""), "could not reach postgresql://admin:***@10.0.0.5/prod, retrying");
        // A password that was not percent-encoded may hold `/` or `@`.
        assert_eq!(redact("mysql://a:b/c@d@host/db", ""), "mysql://a:***@host/db");
        // A user without a password, and a URL without a user, are left alone.
        assert_eq!(redact("postgres://app@host/db sqlite://x.db", ""), "postgres://app@host/db sqlite://x.db");
    }

    #[test]
    fn secret_parameters_are_masked_in_urls_and_keyword_strings() {
        let url = "libsql://db.example?authToken=eyJabc.def&mode=rw";
        assert_eq!(redact("token eyJabc.def expired", url), "token *** expired");
        assert_eq!(redact(url, ""), "libsql://db.example?authToken=***&mode=rw");
        assert_eq!(
            redact("host=db user=app password='a b c' sslpassword = k3y dbname=app", ""),
            "host=db user=app password=*** sslpassword = *** dbname=app"
        );
        assert_eq!(
            redact("sslmode=require api_key=xyz PGPASSWORD=pw", ""),
            "sslmode=require api_key=*** PGPASSWORD=***"
        );
    }

    #[test]
    fn text_without_secrets_is_unchanged() {
        let text = "sql/0003_add_email.sql:2: statement failed: ALTER TABLE users ADD COLUMN email TEXT";
        assert_eq!(redact(text, "postgres://postgres@127.0.0.1:5432/postgres"), text);
        assert_eq!(redact("a == b; x = 1", "sqlite:app.db?mode=rwc"), "a == b; x = 1");
    }

    #[test]
    fn a_secret_containing_another_is_masked_whole() {
        let url = "postgres://u:abc@h/db?password=abcdef";
        assert_eq!(redact("abcdef / abc", url), "*** / ***");
    }
}
