//! Instants as microseconds of the host's CLOCK_MONOTONIC, the clock every process on the
//! machine shares (Rust's `Instant` reads it too): the harness's send and arrival times
//! and a server's own log (the simulator's emitter records its send times this way) can
//! be joined on it.

use std::sync::OnceLock;
use std::time::Instant;

use rustix::time::{clock_gettime, ClockId};

/// `at` in CLOCK_MONOTONIC microseconds.
pub fn monotonic_us(at: Instant) -> u64 {
    static ANCHOR: OnceLock<(Instant, u64)> = OnceLock::new();
    let &(anchor, anchor_us) = ANCHOR.get_or_init(|| {
        let now = clock_gettime(ClockId::Monotonic);
        let instant = Instant::now();
        (
            instant,
            now.tv_sec as u64 * 1_000_000 + now.tv_nsec as u64 / 1_000,
        )
    });
    if at >= anchor {
        anchor_us + at.duration_since(anchor).as_micros() as u64
    } else {
        anchor_us.saturating_sub(anchor.duration_since(at).as_micros() as u64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn follows_the_monotonic_clock() {
        let now = Instant::now();
        let direct = clock_gettime(ClockId::Monotonic);
        let direct_us = direct.tv_sec as u64 * 1_000_000 + direct.tv_nsec as u64 / 1_000;
        // The same clock: equal but for the moments between the two reads.
        assert!(monotonic_us(now).abs_diff(direct_us) < 100_000);
        let later = now + Duration::from_millis(5);
        // Whole microseconds on either side of the anchor: truncation may cost one.
        assert!((4_999..=5_001).contains(&(monotonic_us(later) - monotonic_us(now))));
    }
}
