//! What the build reports: a problem in one file (and line), with what to do about it.

use std::fmt;

/// One problem found in the snippet folder: where it is, what is wrong, what to do.
///
/// Displays as `sql/0003_add_email.sql:4: <what is wrong>` followed by an indented
/// `help:` line, the form `embed()` prints (after `error: `) when the build fails.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{path}{}: {message}\n  help: {help}", LineSuffix(*.line))]
pub struct Diagnostic {
    /// The file or folder, relative to the base dir, with `/` separators
    /// (`sql/postgres/0001_x.sql`).
    pub path: String,
    /// The 1-based line the problem is on, when it is about a line of a file.
    pub line: Option<u32>,
    /// What is wrong.
    pub message: String,
    /// What to do about it, showing the correct form.
    pub help: String,
}

impl Diagnostic {
    /// A problem on `line` of the file at `path`.
    pub(crate) fn at(path: &str, line: u32, message: impl Into<String>, help: impl Into<String>) -> Diagnostic {
        Diagnostic { path: path.to_owned(), line: Some(line), message: message.into(), help: help.into() }
    }

    /// A problem with a whole file or folder.
    pub(crate) fn file(path: &str, message: impl Into<String>, help: impl Into<String>) -> Diagnostic {
        Diagnostic { path: path.to_owned(), line: None, message: message.into(), help: help.into() }
    }
}

struct LineSuffix(Option<u32>);

impl fmt::Display for LineSuffix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(line) => write!(f, ":{line}"),
            None => Ok(()),
        }
    }
}

/// A problem found at a byte offset of a snippet's text: what is wrong, what to do. It
/// becomes a [`Diagnostic`] once its file and line are known.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Problem {
    pub offset: usize,
    pub message: String,
    pub help: String,
}

/// Every problem found in one scan: the build reports them all at once rather than one
/// per rebuild.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", Joined(&self.0))]
pub struct Diagnostics(pub Vec<Diagnostic>);

struct Joined<'a>(&'a [Diagnostic]);

impl fmt::Display for Joined<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, d) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            write!(f, "{d}")?;
        }
        Ok(())
    }
}

impl Diagnostics {
    /// Whether no problem was found.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The problems, in file and line order.
    pub fn iter(&self) -> std::slice::Iter<'_, Diagnostic> {
        self.0.iter()
    }
}

impl<'a> IntoIterator for &'a Diagnostics {
    type Item = &'a Diagnostic;
    type IntoIter = std::slice::Iter<'a, Diagnostic>;

    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn diagnostic_displays_path_line_message_and_help() {
        let d = Diagnostic::at("sql/0003_add_email.sql", 4, "something is wrong", "do this");
        assert_eq!(d.to_string(), "sql/0003_add_email.sql:4: something is wrong\n  help: do this");
    }

    #[test]
    fn diagnostic_without_line_displays_path_only() {
        let d = Diagnostic::file("sql/extra", "unknown folder", "move it");
        assert_eq!(d.to_string(), "sql/extra: unknown folder\n  help: move it");
    }
}
