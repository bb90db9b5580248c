//! Exponential backoff with jitter, for everything codex-lsp tries again: requests the
//! app-server answered "overloaded" (`app_server::connection`) and reconnecting to a shared
//! app-server that went away (`bridge::app_server_slot::shared_app_server`).

use std::time::Duration;

/// Delays that double from `first` up to `max`, each jittered to [50 %, 150 %) of its
/// value so that callers who failed together (a burst of rejected requests, the sessions of
/// a restarted daemon) do not come back in lockstep.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    pub first: Duration,
    pub max: Duration,
}

impl Backoff {
    /// The delay before retry number `retry` (counting from 1).
    pub fn delay(&self, retry: u32) -> Duration {
        jittered(self.unjittered(retry))
    }

    /// `first`·2^(retry−1), capped at `max`.
    fn unjittered(&self, retry: u32) -> Duration {
        self.first
            .saturating_mul(1u32 << retry.saturating_sub(1).min(16))
            .min(self.max)
    }
}

fn jittered(delay: Duration) -> Duration {
    delay.mul_f64(0.5 + fastrand::f64())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_double_up_to_the_cap() {
        let backoff = Backoff {
            first: Duration::from_millis(100),
            max: Duration::from_secs(1),
        };
        let ms = |retry| backoff.unjittered(retry).as_millis();
        assert_eq!(
            [ms(0), ms(1), ms(2), ms(3), ms(4), ms(5)],
            [100, 100, 200, 400, 800, 1000]
        );
        assert_eq!(ms(u32::MAX), 1000);
    }

    #[test]
    fn each_delay_is_jittered_within_half_of_it() {
        let backoff = Backoff {
            first: Duration::from_millis(100),
            max: Duration::from_secs(1),
        };
        let mut seen = std::collections::HashSet::new();
        for _ in 0..200 {
            let first = backoff.delay(1);
            assert!(first >= Duration::from_millis(50) && first < Duration::from_millis(150));
            let late = backoff.delay(9);
            assert!(late >= Duration::from_millis(500) && late < Duration::from_millis(1500));
            seen.insert(first);
        }
        assert!(seen.len() > 100, "the delays are spread, not one value");
    }
}
