//! The adaptive retry system: from a failed validation, decide what to
//! change for the next attempt, and drive attempts until the tier passes or
//! a limit is reached.
//!
//! Strategies are the seed's: a failing face raises the model reference
//! strength, pose the pose guidance scale, colour the colour matching
//! weight, style the style transfer weight, branding the branding
//! enhancement weight. Steps are *progressive* — retry `k` moves by
//! `step · growth^(k−1)`, scaled by how far the score fell short — and
//! *bounded*: every parameter is clamped to its configured range. When
//! nothing can move any more, retrying is pointless and the loop stops.
//!
//! The loop is generic over the generator (`FnMut(&Parameters) ->
//! Result<Attempt<T>, E>`), so the CLI drives it with the local renderer and
//! the server with a remote provider; the crate itself does no I/O.

use std::collections::BTreeMap;
use std::fmt;

use serde::Serialize;

use crate::cache::Clock;
use crate::config::{Knob, Metric, Parameters, PerKnob, QualityConfig, TierConfig};
use crate::error::QualityError;
use crate::validator::ValidationReport;

/// Why the loop stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum StopReason {
    Passed,
    MaxRetries,
    CostLimit,
    TimeLimit,
    /// Every parameter the failures call for is at its bound.
    ParametersExhausted,
}

impl fmt::Display for StopReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            StopReason::Passed => "thresholds met",
            StopReason::MaxRetries => "maximum retries reached",
            StopReason::CostLimit => "cost limit reached",
            StopReason::TimeLimit => "time limit reached",
            StopReason::ParametersExhausted => "every parameter to adjust is at its limit",
        })
    }
}

/// One parameter change and why it was made.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Adjustment {
    pub parameter: Knob,
    pub from: f32,
    pub to: f32,
    /// The failing metric that asked for it.
    pub because: String,
}

/// What the planner decided for the next attempt.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Plan {
    pub parameters: Parameters,
    pub adjustments: Vec<Adjustment>,
    /// Prompt-side strategies for providers that take prompts (the seed's
    /// "enhance face-specific prompts" and friends).
    pub prompt_hints: Vec<String>,
    /// True if at least one parameter changed.
    pub changed: bool,
}

/// Turns failures into parameter changes.
#[derive(Debug, Clone)]
pub struct RetryPlanner {
    pub bounds: PerKnob<[f32; 2]>,
    pub steps: PerKnob<f32>,
    pub growth: f32,
}

fn hints(metric: Metric) -> [&'static str; 2] {
    match metric {
        Metric::Face => [
            "enhance face-specific prompts",
            "adjust guidance scale towards the reference",
        ],
        Metric::Pose => [
            "add pose constraint prompts",
            "increase pose-specific parameters",
        ],
        Metric::Color => [
            "enhance colour emphasis in prompts",
            "describe the product colour precisely",
        ],
        Metric::Style => [
            "add garment-specific prompts",
            "enhance texture preservation",
        ],
        Metric::Branding => [
            "add branding-specific prompts",
            "improve logo/text visibility",
        ],
    }
}

impl RetryPlanner {
    pub fn from_config(config: &QualityConfig) -> RetryPlanner {
        RetryPlanner {
            bounds: config.retry.bounds,
            steps: config.retry.steps,
            growth: config.retry.growth,
        }
    }

    pub fn clamp(&self, knob: Knob, v: f32) -> f32 {
        let [lo, hi] = self.bounds.get(knob);
        if v.is_finite() { v.clamp(lo, hi) } else { lo }
    }

    /// The plan for retry number `retry` (1 = the first retry) after
    /// `report` was obtained with `current`.
    pub fn plan(&self, current: &Parameters, report: &ValidationReport, retry: u32) -> Plan {
        let mut params = *current;
        for knob in Knob::ALL {
            params.set(knob, self.clamp(knob, params.get(knob)));
        }
        // Failing metrics with their shortfall (fraction of the threshold).
        let mut failing: Vec<(Metric, f32)> = Vec::new();
        for m in Metric::ALL {
            if let Some(r) = report.result(m.as_str())
                && r.passes == Some(false)
                && let (Some(s), Some(t)) = (r.score, r.threshold)
            {
                failing.push((m, ((t - s) / t.max(1e-3)).clamp(0.0, 1.0)));
            }
        }
        if failing.is_empty() && !report.passes {
            // Every metric passes but the weighted overall does not: push
            // the one with the least margin above its threshold.
            let weakest = Metric::ALL
                .into_iter()
                .filter_map(|m| {
                    let r = report.result(m.as_str())?;
                    Some((m, r.score? - r.threshold?))
                })
                .min_by(|a, b| a.1.total_cmp(&b.1));
            if let Some((m, _)) = weakest {
                let short = (report.overall_threshold - report.overall_quality)
                    / report.overall_threshold.max(1e-3);
                failing.push((m, short.clamp(0.0, 1.0)));
            }
        }
        let growth = self.growth.powi(retry.saturating_sub(1).min(16) as i32);
        let mut adjustments = Vec::new();
        let mut prompt_hints = Vec::new();
        for (metric, shortfall) in failing {
            let knob = metric.knob();
            let from = params.get(knob);
            // Severity 0.5–1.5: a near miss moves half a step, a collapse
            // one and a half.
            let step = self.steps.get(knob) * growth * (0.5 + shortfall);
            let to = self.clamp(knob, from + step);
            prompt_hints.extend(hints(metric).iter().map(|s| s.to_string()));
            if to > from {
                params.set(knob, to);
                adjustments.push(Adjustment {
                    parameter: knob,
                    from,
                    to,
                    because: metric.as_str().to_string(),
                });
            }
        }
        Plan {
            parameters: params,
            changed: !adjustments.is_empty(),
            adjustments,
            prompt_hints,
        }
    }
}

/// What a generator hands back: its output, the validation of it, and what
/// it cost.
#[derive(Debug, Clone)]
pub struct Attempt<T> {
    pub output: T,
    pub report: ValidationReport,
    pub cost: f64,
}

/// One line of the retry history.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AttemptRecord {
    /// 1-based.
    pub attempt: u32,
    pub parameters: Parameters,
    /// The changes that produced these parameters (empty for attempt 1).
    pub adjustments: Vec<Adjustment>,
    pub scores: BTreeMap<String, Option<f32>>,
    pub overall: f32,
    pub passes: bool,
    pub failed: Vec<String>,
    pub started_ms: f64,
    pub duration_ms: f64,
    pub cost: f64,
}

/// Every attempt, and which was best.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RetryHistory {
    pub attempts: Vec<AttemptRecord>,
    pub best_index: Option<usize>,
    pub total_cost: f64,
    pub elapsed_ms: f64,
    pub stop: Option<StopReason>,
}

impl RetryHistory {
    pub fn best(&self) -> Option<&AttemptRecord> {
        self.best_index.and_then(|i| self.attempts.get(i))
    }
}

/// The limits of one generation.
#[derive(Debug, Clone, Copy)]
pub struct RetryLimits {
    pub max_retries: u32,
    pub cost_limit: f64,
    pub timeout: std::time::Duration,
}

impl RetryLimits {
    pub fn for_tier(tier: &TierConfig, config: &QualityConfig) -> RetryLimits {
        RetryLimits {
            max_retries: tier.max_retries,
            cost_limit: config.retry.cost_limit,
            timeout: std::time::Duration::from_millis(tier.timeout_ms),
        }
    }
}

/// A successful run: the passing attempt and the history.
#[derive(Debug)]
pub struct RetryOutcome<T> {
    pub best: Attempt<T>,
    pub history: RetryHistory,
}

/// A failed run: the coded error (RET_003, or GEN_002 if the generator
/// failed) and the best attempt so far, to show the user anyway.
#[derive(Debug)]
pub struct RetryFailure<T> {
    pub error: QualityError,
    pub best: Option<Attempt<T>>,
}

impl<T> RetryFailure<T> {
    pub fn history(&self) -> Option<&RetryHistory> {
        match &self.error {
            QualityError::MaxRetriesExceeded { history, .. }
            | QualityError::Generation { history, .. } => Some(history),
            _ => None,
        }
    }
}

/// Better = passes first, then higher overall; ties keep the earlier one.
fn better(a: &ValidationReport, b: &ValidationReport) -> bool {
    (a.passes, a.overall_quality) > (b.passes, b.overall_quality)
}

/// Runs `generate` with the tier's parameters, validates through the
/// generator's report, and retries with planned parameters until a report
/// passes or a limit is hit. Attempts: at most `1 + max_retries`.
pub fn run_with_retry<T, E: fmt::Display>(
    initial: Parameters,
    planner: &RetryPlanner,
    limits: RetryLimits,
    clock: &dyn Clock,
    mut generate: impl FnMut(&Parameters) -> Result<Attempt<T>, E>,
) -> Result<RetryOutcome<T>, RetryFailure<T>> {
    let start = clock.now();
    let mut history = RetryHistory::default();
    let mut params = initial;
    for knob in Knob::ALL {
        params.set(knob, planner.clamp(knob, params.get(knob)));
    }
    let mut adjustments = Vec::new();
    let mut best: Option<Attempt<T>> = None;
    let mut number = 0u32;
    let since = |t: std::time::Duration| t.saturating_sub(start).as_secs_f64() * 1000.0;
    loop {
        number += 1;
        let t0 = clock.now();
        let result = generate(&params);
        let t1 = clock.now();
        let attempt = match result {
            Ok(a) => a,
            Err(e) => {
                history.elapsed_ms = since(t1);
                return Err(RetryFailure {
                    error: QualityError::Generation {
                        attempt: number,
                        message: e.to_string(),
                        history: Box::new(history),
                    },
                    best,
                });
            }
        };
        let r = &attempt.report;
        let cost = if attempt.cost.is_finite() {
            attempt.cost.max(0.0)
        } else {
            0.0
        };
        history.total_cost += cost;
        history.attempts.push(AttemptRecord {
            attempt: number,
            parameters: params,
            adjustments: std::mem::take(&mut adjustments),
            scores: r.results.iter().map(|x| (x.key.clone(), x.score)).collect(),
            overall: r.overall_quality,
            passes: r.passes,
            failed: r
                .results
                .iter()
                .filter(|x| x.passes == Some(false))
                .map(|x| x.key.clone())
                .collect(),
            started_ms: since(t0),
            duration_ms: t1.saturating_sub(t0).as_secs_f64() * 1000.0,
            cost,
        });
        history.elapsed_ms = since(t1);
        let report = attempt.report.clone();
        if best
            .as_ref()
            .is_none_or(|b| better(&attempt.report, &b.report))
        {
            history.best_index = Some(history.attempts.len() - 1);
            best = Some(attempt);
        }
        if report.passes {
            history.stop = Some(StopReason::Passed);
            let Some(best) = best else {
                unreachable!("an attempt was just stored")
            };
            return Ok(RetryOutcome { best, history });
        }
        let elapsed = t1.saturating_sub(start);
        let last = t1.saturating_sub(t0);
        let stop = if number > limits.max_retries {
            Some(StopReason::MaxRetries)
        } else if elapsed + last > limits.timeout {
            // Another attempt like the last one would not finish in time.
            Some(StopReason::TimeLimit)
        } else if history.total_cost + cost > limits.cost_limit + 1e-12 {
            Some(StopReason::CostLimit)
        } else {
            None
        };
        let plan = planner.plan(&params, &report, number);
        let stop = stop.or((!plan.changed).then_some(StopReason::ParametersExhausted));
        if let Some(reason) = stop {
            history.stop = Some(reason);
            let best_overall = history.best().map_or(0.0, |b| b.overall);
            return Err(RetryFailure {
                error: QualityError::MaxRetriesExceeded {
                    reason,
                    best: best_overall,
                    history: Box::new(history),
                },
                best,
            });
        }
        params = plan.parameters;
        adjustments = plan.adjustments;
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::time::Duration;

    use garmax_core::Coded;
    use proptest::prelude::*;

    use super::*;
    use crate::cache::ManualClock;
    use crate::config::Tier;
    use crate::validator::ValidatorResult;

    fn report(scores: [f32; 5], tier: &TierConfig) -> ValidationReport {
        let results: Vec<ValidatorResult> = Metric::ALL
            .iter()
            .zip(scores)
            .map(|(m, s)| {
                ValidatorResult::scored(
                    m.as_str(),
                    m.as_str(),
                    s,
                    tier.thresholds.of(*m),
                    vec![],
                    serde_json::Value::Null,
                )
            })
            .collect();
        let overall = scores.iter().sum::<f32>() / 5.0;
        let passes =
            results.iter().all(|r| r.passes == Some(true)) && overall >= tier.thresholds.overall;
        ValidationReport {
            passes,
            overall_quality: overall,
            overall_threshold: tier.thresholds.overall,
            results,
            feedback: vec![],
            elapsed_ms: 0.0,
        }
    }

    fn setup() -> (QualityConfig, RetryPlanner) {
        let c = QualityConfig::default();
        let p = RetryPlanner::from_config(&c);
        (c, p)
    }

    #[test]
    fn each_failure_raises_its_own_knob_and_later_steps_are_bigger() {
        let (c, planner) = setup();
        let tier = c.tier(Tier::Standard);
        for (i, m) in Metric::ALL.iter().enumerate() {
            let mut s = [0.9; 5];
            s[i] = 0.3;
            let p1 = planner.plan(&tier.parameters, &report(s, tier), 1);
            assert_eq!(p1.adjustments.len(), 1, "{m}");
            assert_eq!(p1.adjustments[0].parameter, m.knob());
            let d1 = p1.parameters.get(m.knob()) - tier.parameters.get(m.knob());
            assert!(d1 > 0.0, "{m} raised");
            let p3 = planner.plan(&tier.parameters, &report(s, tier), 3);
            let d3 = p3.parameters.get(m.knob()) - tier.parameters.get(m.knob());
            assert!(
                d3 >= d1,
                "{m}: retry 3 moves at least as far ({d3} vs {d1})"
            );
            for k in Knob::ALL.into_iter().filter(|&k| k != m.knob()) {
                assert_eq!(
                    p1.parameters.get(k),
                    tier.parameters.get(k),
                    "{m} leaves {k:?} alone"
                );
            }
        }
    }

    #[test]
    fn overall_only_failure_pushes_the_weakest_metric() {
        let (c, planner) = setup();
        let tier = c.tier(Tier::Standard);
        let mut r = report([0.66, 0.9, 0.9, 0.9, 0.9], tier);
        r.overall_quality = 0.6;
        r.passes = false;
        let p = planner.plan(&tier.parameters, &r, 1);
        assert_eq!(p.adjustments[0].parameter, Knob::ModelReferenceStrength);
    }

    #[test]
    fn passing_first_attempt_returns_at_once() {
        let (c, planner) = setup();
        let tier = c.tier(Tier::Premium);
        let clock = ManualClock::default();
        let out = run_with_retry(
            tier.parameters,
            &planner,
            RetryLimits::for_tier(tier, &c),
            &clock,
            |_| {
                Ok::<_, String>(Attempt {
                    output: 1,
                    report: report([0.95; 5], tier),
                    cost: 0.1,
                })
            },
        )
        .unwrap();
        assert_eq!(out.history.attempts.len(), 1);
        assert_eq!(out.history.stop, Some(StopReason::Passed));
    }

    #[test]
    fn never_passing_gives_ret_003_with_the_best_attempt() {
        let (c, planner) = setup();
        let tier = c.tier(Tier::Standard);
        let clock = ManualClock::default();
        let overall = [0.3f32, 0.5, 0.4, 0.45];
        let mut i = 0;
        let err = run_with_retry(
            tier.parameters,
            &planner,
            RetryLimits::for_tier(tier, &c),
            &clock,
            |_| {
                let s = overall[i.min(3)];
                i += 1;
                Ok::<_, String>(Attempt {
                    output: i,
                    report: report([s; 5], tier),
                    cost: 0.01,
                })
            },
        )
        .unwrap_err();
        assert_eq!(err.error.code(), garmax_core::ErrorCode::MaxRetriesExceeded);
        let h = err.history().unwrap();
        assert_eq!(h.attempts.len(), 4, "1 + maxRetries(3)");
        assert_eq!(h.stop, Some(StopReason::MaxRetries));
        assert_eq!(h.best().unwrap().attempt, 2);
        assert!(
            !h.attempts[1].adjustments.is_empty(),
            "retries record what they changed"
        );
        assert_eq!(err.best.unwrap().output, 2);
    }

    #[test]
    fn cost_and_time_limits_stop_the_loop() {
        let (c, planner) = setup();
        let tier = c.tier(Tier::Ultra);
        let clock = Arc::new(ManualClock::default());
        let mut limits = RetryLimits::for_tier(tier, &c);
        limits.cost_limit = 0.25;
        let err = run_with_retry(tier.parameters, &planner, limits, clock.as_ref(), |_| {
            Ok::<_, String>(Attempt {
                output: (),
                report: report([0.2; 5], tier),
                cost: 0.1,
            })
        })
        .unwrap_err();
        let h = err.history().unwrap();
        assert_eq!(h.stop, Some(StopReason::CostLimit));
        assert_eq!(h.attempts.len(), 2, "a third attempt would exceed 0.25");
        assert!(h.total_cost <= 0.25);

        let limits = RetryLimits::for_tier(tier, &c);
        let c2 = Arc::clone(&clock);
        let err = run_with_retry(
            tier.parameters,
            &planner,
            limits,
            clock.as_ref(),
            move |_| {
                c2.advance(Duration::from_secs(100));
                Ok::<_, String>(Attempt {
                    output: (),
                    report: report([0.2; 5], tier),
                    cost: 0.0,
                })
            },
        )
        .unwrap_err();
        let h = err.history().unwrap();
        assert_eq!(h.stop, Some(StopReason::TimeLimit));
        // 300 s limit, 100 s per attempt: the third ends exactly at the
        // limit, a fourth could not finish.
        assert_eq!(h.attempts.len(), 3);
    }

    #[test]
    fn generator_errors_keep_the_history() {
        let (c, planner) = setup();
        let tier = c.tier(Tier::Standard);
        let clock = ManualClock::default();
        let mut n = 0;
        let err = run_with_retry(
            tier.parameters,
            &planner,
            RetryLimits::for_tier(tier, &c),
            &clock,
            |_| {
                n += 1;
                if n == 2 {
                    return Err("provider down");
                }
                Ok(Attempt {
                    output: (),
                    report: report([0.2; 5], tier),
                    cost: 0.0,
                })
            },
        )
        .unwrap_err();
        assert_eq!(err.error.code(), garmax_core::ErrorCode::GenerationFailed);
        assert_eq!(err.history().unwrap().attempts.len(), 1);
        assert!(err.best.is_some());
    }

    proptest! {
        #[test]
        fn planner_and_loop_invariants(
            scores in proptest::collection::vec(proptest::array::uniform5(0.0f32..1.0), 1..12),
            tier_i in 0usize..3,
            start in proptest::array::uniform5(-1.0f32..4.0),
        ) {
            let (c, planner) = setup();
            let tier = c.tier(Tier::ALL[tier_i]);
            let mut initial = tier.parameters;
            for (k, v) in Knob::ALL.into_iter().zip(start) {
                initial.set(k, v);
            }
            let clock = ManualClock::default();
            let mut i = 0;
            let mut seen = Vec::new();
            let result = run_with_retry(initial, &planner, RetryLimits::for_tier(tier, &c), &clock, |p| {
                seen.push(*p);
                let s = scores[i % scores.len()];
                i += 1;
                Ok::<_, String>(Attempt { output: i, report: report(s, tier), cost: 0.01 })
            });
            // Parameters stay within bounds on every attempt.
            for p in &seen {
                for k in Knob::ALL {
                    let [lo, hi] = planner.bounds.get(k);
                    prop_assert!(p.get(k) >= lo && p.get(k) <= hi, "{:?} = {} outside [{lo}, {hi}]", k, p.get(k));
                }
            }
            // Never more than 1 + maxRetries attempts.
            prop_assert!(seen.len() as u32 <= 1 + tier.max_retries);
            // Parameters never decrease between attempts.
            for w in seen.windows(2) {
                for k in Knob::ALL {
                    prop_assert!(w[1].get(k) >= w[0].get(k));
                }
            }
            let (history, best_output) = match &result {
                Ok(o) => (&o.history, Some(o.best.output)),
                Err(f) => (f.history().unwrap(), f.best.as_ref().map(|b| b.output)),
            };
            prop_assert_eq!(history.attempts.len(), seen.len());
            // The best attempt is returned: passes first, then the highest overall.
            let best = history.best().unwrap();
            for a in &history.attempts {
                prop_assert!((best.passes, best.overall) >= (a.passes, a.overall));
            }
            prop_assert_eq!(best_output, Some(best.attempt as usize));
            if let Ok(o) = &result {
                prop_assert!(o.best.report.passes);
            }
        }
    }
}
