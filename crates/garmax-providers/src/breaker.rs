//! Per-provider circuit breaker: `failure_threshold` counted failures
//! within `window` open it for `cooldown`; a 429's Retry-After opens it at
//! once for that long; after the cooldown one probe is let through
//! (half-open) — success closes it, failure re-opens it with the cooldown
//! doubled (up to `max_cooldown`). Auth and quota failures open it for
//! `max_cooldown`. Safety blocks and invalid input are the request's
//! fault and do not count. Pure: time is passed in.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use crate::error::ErrorClass;

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct BreakerConfig {
    pub failure_threshold: u32,
    #[serde(with = "secs")]
    pub window: Duration,
    #[serde(with = "secs")]
    pub cooldown: Duration,
    #[serde(with = "secs")]
    pub max_cooldown: Duration,
}

impl Default for BreakerConfig {
    fn default() -> Self {
        BreakerConfig {
            failure_threshold: 5,
            window: Duration::from_secs(60),
            cooldown: Duration::from_secs(30),
            max_cooldown: Duration::from_secs(600),
        }
    }
}

pub(crate) mod secs {
    use serde::{Deserialize, Deserializer, Serializer};
    use std::time::Duration;

    pub fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_f64(d.as_secs_f64())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        let v = f64::deserialize(d)?;
        Duration::try_from_secs_f64(v).map_err(serde::de::Error::custom)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum BreakerState {
    Closed,
    Open,
    HalfOpen,
}

/// Whether a call may go ahead.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Admission {
    Allowed,
    /// The one half-open probe; report its outcome.
    Probe,
    Rejected {
        retry_in: Duration,
    },
}

#[derive(Debug, Clone)]
pub struct CircuitBreaker {
    config: BreakerConfig,
    failures: VecDeque<Instant>,
    open_until: Option<Instant>,
    probing: bool,
    cooldown: Duration,
}

impl CircuitBreaker {
    pub fn new(config: BreakerConfig) -> CircuitBreaker {
        CircuitBreaker {
            config,
            failures: VecDeque::new(),
            open_until: None,
            probing: false,
            cooldown: config.cooldown,
        }
    }

    pub fn state(&self, now: Instant) -> BreakerState {
        match self.open_until {
            None => BreakerState::Closed,
            Some(until) if now < until && !self.probing => BreakerState::Open,
            Some(_) => BreakerState::HalfOpen,
        }
    }

    /// How long it stays open from `now`, when it is open.
    pub fn open_for(&self, now: Instant) -> Option<Duration> {
        match self.open_until {
            Some(until) if now < until && !self.probing => Some(until - now),
            _ => None,
        }
    }

    pub fn admit(&mut self, now: Instant) -> Admission {
        match self.open_until {
            None => Admission::Allowed,
            Some(until) if now < until => Admission::Rejected {
                retry_in: until - now,
            },
            Some(_) if self.probing => Admission::Rejected {
                retry_in: Duration::ZERO,
            },
            Some(_) => {
                self.probing = true;
                Admission::Probe
            }
        }
    }

    /// A probe that was admitted but not sent (skipped for budget).
    pub fn abandon_probe(&mut self) {
        self.probing = false;
    }

    pub fn on_success(&mut self) {
        self.failures.clear();
        self.open_until = None;
        self.probing = false;
        self.cooldown = self.config.cooldown;
    }

    pub fn on_failure(&mut self, now: Instant, class: ErrorClass, retry_after: Option<Duration>) {
        match class {
            ErrorClass::SafetyBlocked | ErrorClass::InvalidInput => {
                if self.probing {
                    // The probe reached the provider and got an answer.
                    self.on_success();
                }
                return;
            }
            ErrorClass::Auth | ErrorClass::Quota => {
                self.open(now, self.config.max_cooldown);
                return;
            }
            ErrorClass::Retryable | ErrorClass::Permanent => {}
        }
        if self.probing {
            self.cooldown = (self.cooldown * 2).min(self.config.max_cooldown);
            self.open(now, retry_after.unwrap_or(self.cooldown).max(self.cooldown));
            return;
        }
        if let Some(wait) = retry_after {
            self.open(now, wait.min(self.config.max_cooldown));
            return;
        }
        self.failures.push_back(now);
        while let Some(&t) = self.failures.front() {
            if now.saturating_duration_since(t) > self.config.window {
                self.failures.pop_front();
            } else {
                break;
            }
        }
        if self.failures.len() as u32 >= self.config.failure_threshold.max(1) {
            self.open(now, self.cooldown);
        }
    }

    fn open(&mut self, now: Instant, for_: Duration) {
        self.open_until = Some(now + for_);
        self.probing = false;
        self.failures.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn cfg() -> BreakerConfig {
        BreakerConfig {
            failure_threshold: 3,
            window: Duration::from_secs(10),
            cooldown: Duration::from_secs(5),
            max_cooldown: Duration::from_secs(60),
        }
    }

    #[test]
    fn opens_probes_and_recovers() {
        let t0 = Instant::now();
        let mut b = CircuitBreaker::new(cfg());
        for i in 0..3 {
            assert_eq!(b.admit(t0), Admission::Allowed, "call {i}");
            b.on_failure(t0, ErrorClass::Retryable, None);
        }
        assert_eq!(b.state(t0), BreakerState::Open);
        assert!(matches!(
            b.admit(t0 + Duration::from_secs(4)),
            Admission::Rejected { .. }
        ));
        let t1 = t0 + Duration::from_secs(5);
        assert_eq!(b.admit(t1), Admission::Probe);
        assert!(
            matches!(b.admit(t1), Admission::Rejected { .. }),
            "one probe at a time"
        );
        b.on_failure(t1, ErrorClass::Retryable, None);
        // Cooldown doubled to 10 s.
        assert!(matches!(
            b.admit(t1 + Duration::from_secs(9)),
            Admission::Rejected { .. }
        ));
        let t2 = t1 + Duration::from_secs(10);
        assert_eq!(b.admit(t2), Admission::Probe);
        b.on_success();
        assert_eq!(b.state(t2), BreakerState::Closed);
        assert_eq!(b.admit(t2), Admission::Allowed);
    }

    #[test]
    fn retry_after_opens_at_once_and_request_faults_do_not_count() {
        let t0 = Instant::now();
        let mut b = CircuitBreaker::new(cfg());
        for _ in 0..10 {
            b.on_failure(t0, ErrorClass::SafetyBlocked, None);
            b.on_failure(t0, ErrorClass::InvalidInput, None);
        }
        assert_eq!(b.admit(t0), Admission::Allowed);
        b.on_failure(t0, ErrorClass::Retryable, Some(Duration::from_secs(20)));
        assert_eq!(
            b.admit(t0 + Duration::from_secs(19)),
            Admission::Rejected {
                retry_in: Duration::from_secs(1)
            }
        );
        assert_eq!(b.admit(t0 + Duration::from_secs(20)), Admission::Probe);
    }

    #[derive(Debug, Clone)]
    enum Event {
        Tick(u64),
        Call(Outcome),
    }
    #[derive(Debug, Clone, Copy)]
    enum Outcome {
        Ok,
        Fail,
        RateLimited(u64),
        Blocked,
    }

    fn events() -> impl Strategy<Value = Vec<Event>> {
        let outcome = prop_oneof![
            Just(Outcome::Ok),
            Just(Outcome::Fail),
            (1u64..30).prop_map(Outcome::RateLimited),
            Just(Outcome::Blocked)
        ];
        proptest::collection::vec(
            prop_oneof![
                (0u64..8000).prop_map(Event::Tick),
                outcome.prop_map(Event::Call)
            ],
            1..200,
        )
    }

    proptest! {
        /// Against a reference model: a rejected call never reaches the
        /// provider; while open nothing passes before `open_until`; at most
        /// one probe is in flight; `threshold` consecutive in-window
        /// failures always open it; a success always closes it.
        #[test]
        fn breaker_invariants(evs in events()) {
            let c = cfg();
            let t0 = Instant::now();
            let mut now = t0;
            let mut b = CircuitBreaker::new(c);
            let mut streak: Vec<Instant> = Vec::new();
            for e in evs {
                match e {
                    Event::Tick(ms) => now += Duration::from_millis(ms),
                    Event::Call(o) => {
                        let before = b.state(now);
                        let adm = b.admit(now);
                        match (before, adm) {
                            (BreakerState::Open, Admission::Allowed) => prop_assert!(false, "open breaker allowed a call"),
                            (BreakerState::Closed, Admission::Rejected { .. }) => prop_assert!(false, "closed breaker rejected"),
                            _ => {}
                        }
                        if let Admission::Rejected { .. } = adm { continue; }
                        if adm == Admission::Probe {
                            let second = matches!(b.admit(now), Admission::Rejected { .. });
                            prop_assert!(second, "a second probe was admitted");
                        }
                        match o {
                            Outcome::Ok => { b.on_success(); streak.clear(); prop_assert_eq!(b.state(now), BreakerState::Closed); }
                            Outcome::Blocked => {
                                b.on_failure(now, ErrorClass::SafetyBlocked, None);
                                if adm == Admission::Probe { streak.clear(); }
                            }
                            Outcome::RateLimited(s) => {
                                b.on_failure(now, ErrorClass::Retryable, Some(Duration::from_secs(s)));
                                streak.clear();
                                prop_assert_eq!(b.state(now), BreakerState::Open);
                            }
                            Outcome::Fail => {
                                b.on_failure(now, ErrorClass::Retryable, None);
                                streak.push(now);
                                streak.retain(|t| now.duration_since(*t) <= c.window);
                                if adm == Admission::Probe || streak.len() as u32 >= c.failure_threshold {
                                    prop_assert_eq!(b.state(now), BreakerState::Open);
                                    streak.clear();
                                } else {
                                    prop_assert_eq!(b.state(now), BreakerState::Closed);
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}
