//! The seed's `alertConfig` as rules: what each alert watches, when a
//! reading breaches its threshold and when it is clear again, and the
//! firing / resolved state machine that keeps an alert from repeating while
//! it stays firing. Pure: the server reads the numbers, the store keeps the
//! state, the providers crate delivers the notifications.

use serde::{Deserialize, Serialize};

/// What an alert watches (the seed's three alerts).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum AlertKind {
    /// The average overall quality of recent generations is low.
    QualityDrop,
    /// Today's provider spend is high.
    HighCost,
    /// A host's CPU or memory is high.
    SystemHealth,
}

impl AlertKind {
    pub const ALL: [AlertKind; 3] = [
        AlertKind::QualityDrop,
        AlertKind::HighCost,
        AlertKind::SystemHealth,
    ];

    /// The seed's name (`qualityDropAlert` without the suffix).
    pub fn as_str(self) -> &'static str {
        match self {
            AlertKind::QualityDrop => "qualityDrop",
            AlertKind::HighCost => "highCost",
            AlertKind::SystemHealth => "systemHealth",
        }
    }

    pub fn parse(s: &str) -> Option<AlertKind> {
        AlertKind::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// How urgent a firing alert of this kind is.
    pub fn severity(self) -> Severity {
        match self {
            AlertKind::QualityDrop => Severity::Warning,
            AlertKind::HighCost | AlertKind::SystemHealth => Severity::Critical,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Severity {
    Warning,
    Critical,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Warning => "warning",
            Severity::Critical => "critical",
        }
    }
}

/// The seed's `qualityDropAlert`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct QualityDropRule {
    /// Fires when the average overall quality falls below this (0..1).
    pub threshold: f64,
    /// The window the average is taken over (the seed's `timeWindow`, ms).
    pub time_window_ms: i64,
    /// Fewer generations than this in the window say nothing either way.
    pub min_samples: i64,
    /// Resolves only once the average is this far above the threshold, so a
    /// value hovering at the threshold does not fire and resolve in turn.
    pub hysteresis: f64,
    pub recipients: Vec<String>,
}

impl Default for QualityDropRule {
    fn default() -> Self {
        QualityDropRule {
            threshold: 0.60,
            time_window_ms: 3_600_000,
            min_samples: 5,
            hysteresis: 0.02,
            recipients: Vec::new(),
        }
    }
}

/// The seed's `highCostAlert`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct HighCostRule {
    /// Fires when today's spend (UTC day, USD) exceeds this.
    pub threshold: f64,
    pub recipients: Vec<String>,
}

impl Default for HighCostRule {
    fn default() -> Self {
        HighCostRule {
            threshold: 100.0,
            recipients: Vec::new(),
        }
    }
}

/// The seed's `systemHealthAlert`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SystemHealthRule {
    /// Host CPU use in percent above which the alert fires.
    pub cpu_threshold: f64,
    /// Host memory use in percent above which the alert fires.
    pub memory_threshold: f64,
    /// Percentage points below both thresholds before it resolves.
    pub hysteresis: f64,
    pub recipients: Vec<String>,
}

impl Default for SystemHealthRule {
    fn default() -> Self {
        SystemHealthRule {
            cpu_threshold: 90.0,
            memory_threshold: 85.0,
            hysteresis: 5.0,
            recipients: Vec::new(),
        }
    }
}

/// What one evaluation found for one alert subject.
#[derive(Debug, Clone, PartialEq)]
pub struct Check {
    pub kind: AlertKind,
    /// `all` for the service-wide alerts, the host for system health.
    pub subject: String,
    /// `Some(true)`: over the threshold; `Some(false)`: clear of it (past the
    /// hysteresis); `None`: between the two, or too little data to judge.
    pub breached: Option<bool>,
    /// The number compared (quality 0..1, USD, percent).
    pub value: f64,
    pub threshold: f64,
    pub message: String,
}

/// A percentage with at most one decimal, without a trailing `.0`
/// (`55`, `0.5`, `87.5`).
fn pct(v: f64) -> String {
    let s = format!("{v:.1}");
    s.strip_suffix(".0").map(str::to_string).unwrap_or(s)
}

/// The subject of the service-wide alerts.
pub const ALL_SUBJECTS: &str = "all";

impl QualityDropRule {
    /// `mean` of the overall quality of `samples` generations in the window.
    pub fn check(&self, mean: Option<f64>, samples: i64) -> Check {
        let minutes = self.time_window_ms as f64 / 60_000.0;
        let (breached, value) = match mean {
            Some(m) if samples >= self.min_samples.max(1) => (
                if m < self.threshold {
                    Some(true)
                } else if m >= self.threshold + self.hysteresis {
                    Some(false)
                } else {
                    None
                },
                m,
            ),
            Some(m) => (None, m),
            None => (None, 0.0),
        };
        Check {
            kind: AlertKind::QualityDrop,
            subject: ALL_SUBJECTS.into(),
            breached,
            value,
            threshold: self.threshold,
            message: format!(
                "Average quality {}% over the last {minutes:.0} min ({samples} generations) \
                 against a threshold of {}%",
                pct(value * 100.0),
                pct(self.threshold * 100.0)
            ),
        }
    }
}

impl HighCostRule {
    /// `spend` so far today in USD.
    pub fn check(&self, spend: f64) -> Check {
        Check {
            kind: AlertKind::HighCost,
            subject: ALL_SUBJECTS.into(),
            breached: Some(spend > self.threshold),
            value: spend,
            threshold: self.threshold,
            message: format!(
                "Provider spend today ${spend:.2} against a daily threshold of ${:.2}",
                self.threshold
            ),
        }
    }
}

impl SystemHealthRule {
    /// `host`'s CPU and memory use in percent. The value reported is the
    /// one furthest over (or nearest to) its threshold.
    pub fn check(&self, host: &str, cpu_percent: f64, memory_percent: f64) -> Check {
        let cpu_over = cpu_percent - self.cpu_threshold;
        let memory_over = memory_percent - self.memory_threshold;
        let (what, value, threshold) = if cpu_over >= memory_over {
            ("CPU", cpu_percent, self.cpu_threshold)
        } else {
            ("memory", memory_percent, self.memory_threshold)
        };
        let worst = cpu_over.max(memory_over);
        let breached = if worst > 0.0 {
            Some(true)
        } else if worst <= -self.hysteresis {
            Some(false)
        } else {
            None
        };
        Check {
            kind: AlertKind::SystemHealth,
            subject: host.to_string(),
            breached,
            value,
            threshold,
            message: format!(
                "Host {host}: {what} at {}% against a threshold of {}% (CPU {}%, memory {}%)",
                pct(value),
                pct(threshold),
                pct(cpu_percent),
                pct(memory_percent)
            ),
        }
    }
}

/// What to do with an alert after a check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transition {
    /// It was not firing and is breached now: open it and notify.
    Fire,
    /// It was firing and is clear now: resolve it and notify.
    Resolve,
    /// Nothing changes (and nobody is notified again).
    Hold,
}

/// The state machine: an alert fires once when breached, stays firing
/// without repeating while it is breached or undecided, and resolves once
/// when clear.
pub fn transition(firing: bool, breached: Option<bool>) -> Transition {
    match (firing, breached) {
        (false, Some(true)) => Transition::Fire,
        (true, Some(false)) => Transition::Resolve,
        _ => Transition::Hold,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn quality_fires_below_the_threshold_and_clears_past_the_hysteresis() {
        let r = QualityDropRule::default();
        assert_eq!(r.check(Some(0.55), 10).breached, Some(true));
        assert_eq!(r.check(Some(0.61), 10).breached, None);
        assert_eq!(r.check(Some(0.62), 10).breached, Some(false));
        // Too few generations say nothing.
        assert_eq!(r.check(Some(0.10), 4).breached, None);
        assert_eq!(r.check(None, 0).breached, None);
        assert!(r.check(Some(0.55), 10).message.contains("55%"));
        assert!(r.check(Some(0.875), 10).message.contains("87.5%"));
    }

    #[test]
    fn cost_fires_above_the_daily_threshold() {
        let r = HighCostRule::default();
        assert_eq!(r.check(100.0).breached, Some(false));
        assert_eq!(r.check(100.01).breached, Some(true));
    }

    #[test]
    fn health_reports_the_resource_furthest_over() {
        let r = SystemHealthRule::default();
        let c = r.check("h1", 50.0, 90.0);
        assert_eq!((c.breached, c.value, c.threshold), (Some(true), 90.0, 85.0));
        assert!(
            c.message
                .contains("memory at 90% against a threshold of 85%"),
            "{}",
            c.message
        );
        let tight = SystemHealthRule {
            memory_threshold: 0.5,
            ..SystemHealthRule::default()
        };
        assert!(
            tight
                .check("h", 1.0, 5.25)
                .message
                .contains("threshold of 0.5%")
        );
        let c = r.check("h1", 95.0, 10.0);
        assert_eq!((c.breached, c.value), (Some(true), 95.0));
        assert_eq!(r.check("h1", 87.0, 10.0).breached, None);
        assert_eq!(r.check("h1", 85.0, 80.0).breached, Some(false));
    }

    #[test]
    fn kinds_round_trip_their_names() {
        for k in AlertKind::ALL {
            assert_eq!(AlertKind::parse(k.as_str()), Some(k));
        }
        assert_eq!(AlertKind::parse("nope"), None);
    }

    proptest! {
        /// Over any sequence of checks, fire and resolve alternate, starting
        /// with fire: nobody is notified twice for one episode.
        #[test]
        fn fire_and_resolve_alternate(checks in proptest::collection::vec(
            prop_oneof![Just(Some(true)), Just(Some(false)), Just(None)], 0..64)) {
            let mut firing = false;
            let mut last = None;
            for b in checks {
                match transition(firing, b) {
                    Transition::Fire => {
                        prop_assert_ne!(last, Some(Transition::Fire));
                        prop_assert_eq!(b, Some(true));
                        firing = true;
                        last = Some(Transition::Fire);
                    }
                    Transition::Resolve => {
                        prop_assert_eq!(last, Some(Transition::Fire));
                        prop_assert_eq!(b, Some(false));
                        firing = false;
                        last = Some(Transition::Resolve);
                    }
                    Transition::Hold => prop_assert!(b.is_none() || b == Some(firing)),
                }
            }
        }
    }
}
