//! A snippet folder in a temporary directory, and scans of it.
#![allow(dead_code)] // each test file uses a part

use std::path::PathBuf;

use bootschema_build::{Builder, Diagnostic, Scan};

/// `<tmp>/sql/`, filled by the test.
pub struct SqlFolder {
    dir: tempfile::TempDir,
}

impl SqlFolder {
    pub fn new() -> SqlFolder {
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::create_dir(dir.path().join("sql")).expect("sql dir");
        SqlFolder { dir }
    }

    /// Writes `sql/<rel>`, creating its folder.
    pub fn file(&self, rel: &str, contents: impl AsRef<[u8]>) -> &SqlFolder {
        let path = self.path().join(rel);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("create folder");
        std::fs::write(path, contents).expect("write snippet");
        self
    }

    pub fn path(&self) -> PathBuf {
        self.dir.path().join("sql")
    }

    pub fn builder(&self) -> Builder {
        Builder::new().folder(self.path()).env_prefix("MYAPP")
    }

    pub fn scan(&self) -> Scan {
        self.builder().scan().unwrap_or_else(|errors| panic!("unexpected errors:\n{errors}"))
    }

    pub fn errors(&self) -> Vec<Diagnostic> {
        match self.builder().scan() {
            Ok(scan) => panic!("expected errors, the scan succeeded: {:?}", scan.set),
            Err(errors) => errors.0,
        }
    }

    /// The only error of the scan.
    pub fn error(&self) -> Diagnostic {
        let errors = self.errors();
        assert_eq!(errors.len(), 1, "expected one error, got:\n{}", bootschema_build::Diagnostics(errors.clone()));
        errors.into_iter().next().expect("one error")
    }
}

/// Asserts that `d` is about `path` at `line`, says `what` is wrong and `todo` to fix it.
#[track_caller]
pub fn assert_diagnostic(d: &Diagnostic, path: &str, line: Option<u32>, what: &str, todo: &str) {
    assert_eq!((d.path.as_str(), d.line), (path, line), "{d}");
    assert!(d.message.contains(what), "message should contain {what:?}: {d}");
    assert!(d.help.contains(todo), "help should contain {todo:?}: {d}");
}
