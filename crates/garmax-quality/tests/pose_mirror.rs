//! The pose validator against MediaPipe's own detections of mirrored
//! photos.
//!
//! `garmax-person`'s committed fixture holds MediaPipe Python's landmarks on
//! three photos (the astronaut, the cameraman, a face-api portrait) and on
//! nine transformed copies of each, among them the horizontally flipped
//! photo. Good detections: the tracking-mode result on the same photo and
//! the resampled, shifted, rotated and re-framed copies mapped back into the
//! photo's frame (the same pose seen through another image). Mirrored: the
//! flipped photo's result as it is (the frame flipped), the same shifted so
//! the shoulders' centre is where it was (the body drawn mirrored in place),
//! and the rotated, flipped and shifted copy. MediaPipe names left and right
//! by appearance, so on a flip "left shoulder" stays on the image's right:
//! only the depth order and the asymmetries of the pose change sides.

use garmax_core::pose::{Landmark, PoseLandmarks};
use garmax_quality::pose::compare;
use garmax_quality::testkit::roc_auc;
use serde_json::Value;

const FIXTURE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../garmax-person/tests/fixtures/pose_reference.json"
);

const PHOTOS: [&str; 3] = ["astronaut", "camera", "faceapi_sample4_crop"];

/// Transformed copies whose detections, mapped back, are good renders.
const SAME_POSE: [&str; 8] = [
    "scale0.7",
    "scale1.2",
    "shift",
    "rot+30",
    "rot-30",
    "wide_canvas",
    "tall_canvas",
    "rot+20_scale1.1",
];

fn f(v: &Value) -> f32 {
    v.as_f64().expect("number") as f32
}

/// One MediaPipe result (`reference` or `reference_tracking`) of a case,
/// its points mapped by `to_photo` (output pixel → photo pixel, depth scaled
/// with the map) into a frame of `size`.
fn landmarks(result: &Value, to_photo: [f32; 6], size: [u32; 2]) -> Option<PoseLandmarks> {
    let rows = result.get("landmarks")?.as_array()?;
    let [a, b, c, d, e, g] = to_photo;
    let z_scale = a.hypot(d);
    let image = rows
        .iter()
        .map(|r| {
            let (x, y) = (f(&r[0]), f(&r[1]));
            Landmark {
                x: a * x + b * y + c,
                y: d * x + e * y + g,
                z: f(&r[2]) * z_scale,
                visibility: f(&r[3]),
                presence: f(&r[4]),
            }
        })
        .collect();
    let world = result
        .get("world")?
        .as_array()?
        .iter()
        .map(|w| [f(&w[0]), f(&w[1]), f(&w[2])])
        .collect();
    Some(PoseLandmarks {
        image_size: size,
        image,
        world,
    })
}

const IDENTITY: [f32; 6] = [1.0, 0.0, 0.0, 0.0, 1.0, 0.0];

struct Sets {
    expected: PoseLandmarks,
    good: Vec<(String, PoseLandmarks)>,
    mirrored: Vec<(String, PoseLandmarks)>,
}

fn sets(cases: &[Value], photo: &str) -> Sets {
    let case = |t: &str| {
        cases
            .iter()
            .find(|c| c["name"] == format!("{photo}/{t}"))
            .unwrap_or_else(|| panic!("{photo}/{t} in the fixture"))
    };
    let size = |c: &Value| {
        let s = c["out_size"].as_array().expect("out_size");
        [s[0].as_u64().unwrap() as u32, s[1].as_u64().unwrap() as u32]
    };
    let id = case("identity");
    let frame = size(id);
    let expected = landmarks(&id["reference"], IDENTITY, frame).expect("identity result");
    let mut good = vec![(
        "tracking".to_string(),
        landmarks(&id["reference_tracking"], IDENTITY, frame).expect("tracking result"),
    )];
    for t in SAME_POSE {
        let c = case(t);
        let m: Vec<f32> = c["matrix"].as_array().unwrap().iter().map(f).collect();
        // MediaPipe found no person in some copies (`null`): nothing to compare.
        if let Some(p) = landmarks(&c["reference"], [m[0], m[1], m[2], m[3], m[4], m[5]], frame) {
            good.push((t.to_string(), p));
        }
    }
    let flipped = landmarks(&case("flip")["reference"], IDENTITY, frame).expect("flip result");
    let centre = |p: &PoseLandmarks| (p.image[11].x + p.image[12].x) / 2.0;
    let shift = centre(&expected) - centre(&flipped);
    let mut in_place = flipped.clone();
    for l in &mut in_place.image {
        l.x += shift;
    }
    let turned = case("rot+15_flip_shift");
    let mirrored = vec![
        ("frame flipped".to_string(), flipped),
        ("mirrored in place".to_string(), in_place),
        (
            "rotated, flipped, shifted".to_string(),
            landmarks(&turned["reference"], IDENTITY, size(turned)).expect("result"),
        ),
    ];
    Sets {
        expected,
        good,
        mirrored,
    }
}

#[test]
fn mirrored_detections_score_below_the_same_pose_detected_again() {
    let text = std::fs::read_to_string(FIXTURE).expect("garmax-person's pose fixture");
    let fixture: Value = serde_json::from_str(&text).expect("fixture JSON");
    let cases = fixture["cases"].as_array().expect("cases");
    let (mut good_all, mut bad_all) = (Vec::new(), Vec::new());
    let (mut good_pos, mut bad_pos) = (Vec::new(), Vec::new());
    for photo in PHOTOS {
        let s = sets(cases, photo);
        let frame = s.expected.image_size;
        let score = |p: &PoseLandmarks| compare(&s.expected, p, frame).expect("comparable");
        let (mut good, mut bad) = (Vec::new(), Vec::new());
        for (name, p) in &s.good {
            let c = score(p);
            println!(
                "{photo:<22} good   {name:<26} score {:.3} positions {:.3} facing {:?}",
                c.score, c.position_score, c.facing
            );
            good.push(c.score);
            good_pos.push(c.position_score);
        }
        for (name, p) in &s.mirrored {
            let c = score(p);
            println!(
                "{photo:<22} MIRROR {name:<26} score {:.3} positions {:.3} facing {:?}",
                c.score, c.position_score, c.facing
            );
            bad.push(c.score);
            bad_pos.push(c.position_score);
            // The facing cues see the mirror on every photo.
            assert!(c.facing.unwrap_or(1.0) < 0.5, "{photo} {name}: {c:?}");
        }
        let auc = roc_auc(&good, &bad);
        println!("{photo}: AUC good vs mirrored {auc:.3}");
        assert!(auc >= 0.95, "{photo}: AUC {auc:.3}");
        good_all.extend(good);
        bad_all.extend(bad);
    }
    let (auc, auc_pos) = (roc_auc(&good_all, &bad_all), roc_auc(&good_pos, &bad_pos));
    println!("pooled AUC good vs mirrored: {auc:.3} (positions alone {auc_pos:.3})");
    assert!(auc >= 0.95 && auc >= auc_pos, "{auc:.3} vs {auc_pos:.3}");
}
