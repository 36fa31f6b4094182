//! Pose accuracy: landmarks detected on the generated image against the
//! expected pose, scored OKS-style (COCO's object keypoint similarity).
//!
//! Each landmark contributes `exp(−d² / (2 s² κ²))`, `d` its distance, `s`
//! the body size and `κ` a per-joint tolerance (COCO's keypoint sigmas:
//! wrists must be placed more precisely than hips, whose position under
//! clothing is itself uncertain). The body size is the torso diagonal
//! (shoulder to opposite hip, averaged), or 1.6 × the shoulder width when
//! the hips are out of frame. Visibility weights each joint: a landmark
//! either side reports as hidden does not count.
//!
//! The score is not the plain mean: a single limb in the wrong place is a
//! wrong pose even if 28 other points agree, so the score blends the mean
//! over body parts with the worst part.

use garmax_core::pose::{BLAZEPOSE_COUNT, Landmark, PoseLandmarks, joint};
use serde_json::json;

use crate::config::{Metric, Thresholds};
use crate::validator::{ValidationInput, Validator, ValidatorResult};

pub struct PoseValidator;

/// Per-landmark tolerance κ for the 33 BlazePose points (COCO's sigmas
/// where COCO has the joint, the nearest COCO joint's otherwise).
const KAPPA: [f32; BLAZEPOSE_COUNT] = [
    0.026, // nose
    0.025, 0.025, 0.025, // left eye inner, eye, outer
    0.025, 0.025, 0.025, // right eye
    0.035, 0.035, // ears
    0.026, 0.026, // mouth
    0.079, 0.079, // shoulders
    0.072, 0.072, // elbows
    0.062, 0.062, // wrists
    0.062, 0.062, 0.062, 0.062, 0.062, 0.062, // pinky, index, thumb
    0.107, 0.107, // hips
    0.087, 0.087, // knees
    0.089, 0.089, // ankles
    0.089, 0.089, 0.089, 0.089, // heels, foot index
];

/// Body parts: head, torso, each arm, each leg.
const PARTS: [(&str, &[usize]); 6] = [
    ("head", &[0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10]),
    ("torso", &[11, 12, 23, 24]),
    ("left arm", &[13, 15, 17, 19, 21]),
    ("right arm", &[14, 16, 18, 20, 22]),
    ("left leg", &[25, 27, 29, 31]),
    ("right leg", &[26, 28, 30, 32]),
];

/// Visibility below which a landmark is treated as not seen.
const VISIBLE: f32 = 0.5;

/// Landmark distance, in body sizes, that counts as correct for PCK.
const PCK_ALPHA: f32 = 0.2;

fn visible(l: &Landmark) -> bool {
    l.visibility >= VISIBLE && l.x.is_finite() && l.y.is_finite()
}

fn dist(a: [f32; 2], b: [f32; 2]) -> f32 {
    (a[0] - b[0]).hypot(a[1] - b[1])
}

/// Body size of a pose in its own pixels; `None` without visible shoulders.
pub fn body_size(points: &[[f32; 2]], vis: &[bool]) -> Option<f32> {
    let (ls, rs, lh, rh) = (
        joint::LEFT_SHOULDER,
        joint::RIGHT_SHOULDER,
        joint::LEFT_HIP,
        joint::RIGHT_HIP,
    );
    if !(vis[ls] && vis[rs]) {
        return None;
    }
    let shoulders = dist(points[ls], points[rs]);
    let size = if vis[lh] && vis[rh] {
        0.5 * (dist(points[ls], points[rh]) + dist(points[rs], points[lh]))
    } else {
        1.6 * shoulders
    };
    (size > 1.0).then_some(size)
}

/// Expected landmarks in the generated image's pixels: the expected pose is
/// given in its own image's frame, which may have another size.
fn to_frame(pose: &PoseLandmarks, size: [u32; 2]) -> Vec<[f32; 2]> {
    let sx = size[0] as f32 / pose.image_size[0].max(1) as f32;
    let sy = size[1] as f32 / pose.image_size[1].max(1) as f32;
    pose.image.iter().map(|l| [l.x * sx, l.y * sy]).collect()
}

/// The OKS-style comparison, usable without images.
#[derive(Debug, Clone, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PoseComparison {
    pub oks: f32,
    pub part_oks: Vec<(String, Option<f32>)>,
    pub worst_part: Option<(String, f32)>,
    pub pck: f32,
    pub compared: usize,
    pub body_size: f32,
    pub score: f32,
}

pub fn compare(
    expected: &PoseLandmarks,
    detected: &PoseLandmarks,
    frame: [u32; 2],
) -> Option<PoseComparison> {
    if expected.image.len() < BLAZEPOSE_COUNT || detected.image.len() < BLAZEPOSE_COUNT {
        return None;
    }
    let exp = to_frame(expected, frame);
    let det = to_frame(detected, frame);
    let exp_vis: Vec<bool> = expected.image.iter().map(visible).collect();
    let det_vis: Vec<bool> = detected.image.iter().map(visible).collect();
    let size = body_size(&exp, &exp_vis)?;
    let mut sim = [None; BLAZEPOSE_COUNT];
    let (mut sum, mut wsum, mut pck_hits) = (0.0f32, 0.0f32, 0usize);
    for i in 0..BLAZEPOSE_COUNT {
        if !exp_vis[i] {
            continue;
        }
        // Expected but not detected: the limb is missing or hidden in the
        // render, which is wrong, so it scores 0 rather than being dropped.
        let s = if det_vis[i] {
            let d = dist(exp[i], det[i]);
            if d <= PCK_ALPHA * size {
                pck_hits += 1;
            }
            (-(d * d) / (2.0 * size * size * KAPPA[i] * KAPPA[i])).exp()
        } else {
            0.0
        };
        let w = expected.image[i].visibility.clamp(VISIBLE, 1.0);
        sum += w * s;
        wsum += w;
        sim[i] = Some(s);
    }
    if wsum <= 0.0 {
        return None;
    }
    let compared = sim.iter().flatten().count();
    let oks = sum / wsum;
    let part_oks: Vec<(String, Option<f32>)> = PARTS
        .iter()
        .map(|(name, idx)| {
            let v: Vec<f32> = idx.iter().filter_map(|&i| sim[i]).collect();
            (
                name.to_string(),
                (!v.is_empty()).then(|| v.iter().sum::<f32>() / v.len() as f32),
            )
        })
        .collect();
    let scored: Vec<(String, f32)> = part_oks
        .iter()
        .filter_map(|(n, v)| v.map(|v| (n.clone(), v)))
        .collect();
    let mean_part = scored.iter().map(|(_, v)| v).sum::<f32>() / scored.len().max(1) as f32;
    let worst = scored.iter().cloned().min_by(|a, b| a.1.total_cmp(&b.1));
    let score = 0.5 * mean_part + 0.5 * worst.as_ref().map_or(mean_part, |w| w.1);
    Some(PoseComparison {
        oks,
        part_oks,
        worst_part: worst,
        pck: pck_hits as f32 / compared.max(1) as f32,
        compared,
        body_size: size,
        score,
    })
}

impl Validator for PoseValidator {
    fn name(&self) -> &str {
        "Pose accuracy"
    }
    fn key(&self) -> &str {
        Metric::Pose.as_str()
    }

    fn validate(&self, input: &ValidationInput<'_>, thresholds: &Thresholds) -> ValidatorResult {
        let (key, name) = (self.key(), self.name());
        let (Some(expected), Some(detected)) = (input.expected_pose, input.detected_pose) else {
            return ValidatorResult::skipped(key, name, "no landmarks");
        };
        let frame = [input.generated.width(), input.generated.height()];
        let Some(c) = compare(expected, detected, frame) else {
            return ValidatorResult::skipped(
                key,
                name,
                "expected pose has no visible shoulders or too few landmarks",
            );
        };
        let threshold = thresholds.of(Metric::Pose);
        let mut feedback = Vec::new();
        if c.score >= 0.85 {
            feedback.push("Pose matches the expected pose".to_string());
        } else if c.score >= threshold {
            feedback.push("Pose close to the expected pose".to_string());
        } else if let Some((part, v)) = &c.worst_part {
            feedback.push(format!(
                "Pose differs most at the {part} (similarity {v:.2}); raise pose guidance"
            ));
        }
        ValidatorResult::scored(key, name, c.score, threshold, feedback, json!(c))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn standing(size: [u32; 2]) -> PoseLandmarks {
        let pts: [[f32; 2]; BLAZEPOSE_COUNT] = [
            [200.0, 80.0],
            [192.0, 72.0],
            [188.0, 72.0],
            [184.0, 72.0],
            [208.0, 72.0],
            [212.0, 72.0],
            [216.0, 72.0],
            [178.0, 78.0],
            [222.0, 78.0],
            [194.0, 92.0],
            [206.0, 92.0],
            [160.0, 130.0],
            [240.0, 130.0],
            [150.0, 200.0],
            [250.0, 200.0],
            [145.0, 260.0],
            [255.0, 260.0],
            [143.0, 270.0],
            [257.0, 270.0],
            [146.0, 272.0],
            [254.0, 272.0],
            [150.0, 266.0],
            [250.0, 266.0],
            [175.0, 260.0],
            [225.0, 260.0],
            [172.0, 350.0],
            [228.0, 350.0],
            [170.0, 440.0],
            [230.0, 440.0],
            [168.0, 450.0],
            [232.0, 450.0],
            [180.0, 455.0],
            [220.0, 455.0],
        ];
        PoseLandmarks {
            image_size: size,
            image: pts
                .iter()
                .map(|p| Landmark {
                    x: p[0],
                    y: p[1],
                    z: 0.0,
                    visibility: 0.99,
                    presence: 0.99,
                })
                .collect(),
            world: vec![[0.0; 3]; BLAZEPOSE_COUNT],
        }
    }

    #[test]
    fn identical_pose_scores_one_and_a_raised_arm_scores_low() {
        let a = standing([400, 500]);
        let c = compare(&a, &a, [400, 500]).unwrap();
        assert!((c.score - 1.0).abs() < 1e-5);
        assert_eq!(c.pck, 1.0);
        let mut b = a.clone();
        for i in [13, 15, 17, 19, 21] {
            b.image[i].y -= 150.0;
        }
        let c = compare(&a, &b, [400, 500]).unwrap();
        assert!(c.score < 0.55, "{}", c.score);
        assert_eq!(c.worst_part.unwrap().0, "left arm");
    }

    #[test]
    fn frames_of_other_sizes_are_rescaled() {
        let a = standing([400, 500]);
        let mut b = a.clone();
        b.image_size = [800, 1000];
        for l in &mut b.image {
            l.x *= 2.0;
            l.y *= 2.0;
        }
        assert!((compare(&a, &b, [400, 500]).unwrap().score - 1.0).abs() < 1e-4);
    }

    #[test]
    fn hidden_expected_points_do_not_count_and_missing_detections_do() {
        let a = standing([400, 500]);
        let mut hidden = a.clone();
        for i in 25..33 {
            hidden.image[i].visibility = 0.1;
        }
        let c = compare(&hidden, &a, [400, 500]).unwrap();
        assert!((c.score - 1.0).abs() < 1e-5);
        let c = compare(&a, &hidden, [400, 500]).unwrap();
        assert!(c.score < 0.6);
        let mut short = a.clone();
        short.image.truncate(10);
        assert!(compare(&a, &short, [400, 500]).is_none());
    }
}
