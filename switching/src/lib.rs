//! Nothing to link: this package holds the tests of switching to bootschema from
//! another migration tool (`tests/switching/`), run against the real tools over the
//! fixture histories of `fixtures/<tool>/<database>/` (see `fixtures/README.md`, and
//! `docs/testing.md` at the repository's root for why it is a workspace member).
