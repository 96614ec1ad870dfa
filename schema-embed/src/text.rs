//! Text helpers shared by the plan, the executor, the errors and the logs.

/// A statement's beginning, on one line, short enough for a log line.
pub(crate) fn excerpt(sql: &str) -> String {
    let one_line: String = sql.split_whitespace().collect::<Vec<_>>().join(" ");
    match one_line.char_indices().nth(120) {
        Some((cut, _)) => format!("{}…", &one_line[..cut]),
        None => one_line,
    }
}
