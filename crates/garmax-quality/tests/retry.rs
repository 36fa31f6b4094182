//! The retry loop driven by a renderer whose knobs change the image: a
//! deliberately bad first attempt must improve on retry, and thresholds
//! that can never be met end in RET_003 with the best attempt.

mod common;

use garmax_core::{Coded, ErrorCode};
use garmax_quality::cache::ManualClock;
use garmax_quality::testkit::{Flaws, astronaut_face, astronaut_pose, simulated_render};
use garmax_quality::{
    Attempt, QualityConfig, RetryLimits, RetryPlanner, StopReason, Tier, ValidationEngine,
    ValidationInput, run_with_retry,
};

#[test]
fn a_bad_first_attempt_improves_the_failing_scores_on_retry() {
    let inputs = common::inputs();
    let config = QualityConfig::default();
    let engine = ValidationEngine::new(&config);
    let tier = config.tier(Tier::Premium);
    let planner = RetryPlanner::from_config(&config);
    let (pose, face) = (astronaut_pose(), astronaut_face());
    let flaws = Flaws {
        color_de: 9.0,
        logo_blur: 3,
    };
    let clock = ManualClock::default();
    let outcome = run_with_retry(
        tier.parameters,
        &planner,
        RetryLimits::for_tier(tier, &config),
        &clock,
        |params| {
            let c = simulated_render(&inputs, 0, params, &tier.parameters, flaws);
            let mut input = ValidationInput::new(&c.image, inputs.products[0].input());
            input.reference = Some(&inputs.person);
            input.expected_pose = Some(&pose);
            input.detected_pose = Some(&pose);
            input.reference_face = Some(&face);
            input.generated_face = Some(&face);
            input.garment_mask = Some(&c.garment_mask);
            input.logo_boxes = Some(&c.logo_boxes);
            let report = engine.validate(&input, tier).map_err(|e| e.to_string())?;
            Ok::<_, String>(Attempt {
                output: c.image,
                report,
                cost: 0.05,
            })
        },
    );
    let history = match &outcome {
        Ok(o) => &o.history,
        Err(f) => f.history().expect("history"),
    };
    for a in &history.attempts {
        println!(
            "attempt {} colour {:?} branding {:?} params {:?} adj {:?}",
            a.attempt, a.scores["color"], a.scores["branding"], a.parameters, a.adjustments
        );
    }
    let first = &history.attempts[0];
    assert!(!first.passes, "the flawed first attempt must fail");
    assert!(
        first.failed.contains(&"color".to_string()),
        "{:?}",
        first.failed
    );
    let second = &history.attempts[1];
    assert!(second.parameters.color_matching_weight > first.parameters.color_matching_weight);
    assert!(
        second.scores["color"].unwrap() > first.scores["color"].unwrap(),
        "retry improved the colour score"
    );
    assert!(second.adjustments.iter().any(|a| a.because == "color"));
    let outcome = outcome.expect("the knobs can undo the flaws within premium's retries");
    assert_eq!(outcome.history.stop, Some(StopReason::Passed));
    assert!(outcome.best.report.passes);
}

#[test]
fn thresholds_never_met_give_ret_003_and_the_best_attempt() {
    let inputs = common::inputs();
    let config = QualityConfig::default();
    let engine = ValidationEngine::new(&config);
    let tier = config.tier(Tier::Standard);
    let planner = RetryPlanner::from_config(&config);
    let clock = ManualClock::default();
    // A renderer that ignores its knobs: the dye error never goes away.
    let stuck = config.tier(Tier::Standard).parameters;
    let failure = run_with_retry(
        tier.parameters,
        &planner,
        RetryLimits::for_tier(tier, &config),
        &clock,
        |_| {
            let c = simulated_render(
                &inputs,
                1,
                &stuck,
                &stuck,
                Flaws {
                    color_de: 15.0,
                    logo_blur: 0,
                },
            );
            let mut input = ValidationInput::new(&c.image, inputs.products[1].input());
            input.garment_mask = Some(&c.garment_mask);
            input.logo_boxes = Some(&c.logo_boxes);
            let report = engine.validate(&input, tier).map_err(|e| e.to_string())?;
            Ok::<_, String>(Attempt {
                output: (),
                report,
                cost: 0.01,
            })
        },
    )
    .expect_err("cannot pass");
    assert_eq!(failure.error.code(), ErrorCode::MaxRetriesExceeded);
    let h = failure.history().unwrap();
    assert_eq!(h.attempts.len() as u32, 1 + tier.max_retries);
    assert!(failure.best.is_some());
    assert!(h.best().unwrap().scores["color"].unwrap() < tier.thresholds.accuracy.color);
    assert!(failure.error.to_string().contains("not met"));
}
