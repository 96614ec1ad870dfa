//! Nothing to link: this package holds the tests of switching to bootschema from
//! another migration tool (`tests/`), run against the real tools over the fixture
//! folders of `fixtures/<tool>/<database>/`. See `README.md` beside this file.
