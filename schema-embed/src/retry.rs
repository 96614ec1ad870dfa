//! The pause between attempts after a lock wait timed out: shared by the sync's retry
//! of a snippet whose table lock timed out and SQLite's wait for its write lock.

use std::time::Duration;

/// The pause before attempt `attempt` after a lock timeout (attempt 2 is the first
/// retry): 200 ms, doubling, at most 6.4 s.
pub(crate) fn backoff(attempt: u32) -> Duration {
    Duration::from_millis(100 << attempt.clamp(1, 7).saturating_sub(1))
}

#[cfg(test)]
mod tests {
    use super::backoff;
    use std::time::Duration;

    #[test]
    fn backoff_starts_at_200_ms_and_doubles_up_to_a_bound() {
        let pauses: Vec<u128> = (2..=9).map(|a| backoff(a).as_millis()).collect();
        assert_eq!(pauses, vec![200, 400, 800, 1600, 3200, 6400, 6400, 6400]);
        assert_eq!(backoff(0), Duration::from_millis(100));
    }
}
