//! Derived keypoint sets: COCO-17 and OpenPose's COCO-18 (with the neck),
//! and the OpenPose JSON file ControlNet tooling reads.

pub use garmax_core::pose::OPENPOSE18_NAMES;
use garmax_core::pose::{Landmark, PoseLandmarks, joint};
use serde::{Deserialize, Serialize};

/// A 2D keypoint in image pixels with a confidence (BlazePose visibility).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Keypoint {
    pub x: f32,
    pub y: f32,
    pub score: f32,
}

impl From<&Landmark> for Keypoint {
    fn from(l: &Landmark) -> Self {
        Keypoint {
            x: l.x,
            y: l.y,
            score: l.visibility,
        }
    }
}

/// COCO-17 names, in COCO order.
pub const COCO17_NAMES: [&str; 17] = [
    "nose",
    "left_eye",
    "right_eye",
    "left_ear",
    "right_ear",
    "left_shoulder",
    "right_shoulder",
    "left_elbow",
    "right_elbow",
    "left_wrist",
    "right_wrist",
    "left_hip",
    "right_hip",
    "left_knee",
    "right_knee",
    "left_ankle",
    "right_ankle",
];

/// BlazePose index of each COCO-17 keypoint.
pub const COCO17_FROM_BLAZEPOSE: [usize; 17] = [
    0, 2, 5, 7, 8, 11, 12, 13, 14, 15, 16, 23, 24, 25, 26, 27, 28,
];

/// BlazePose index of each OpenPose keypoint; `None` for the neck, which is
/// the midpoint of the shoulders.
const OPENPOSE18_FROM_BLAZEPOSE: [Option<usize>; 18] = [
    Some(joint::NOSE),
    None,
    Some(joint::RIGHT_SHOULDER),
    Some(joint::RIGHT_ELBOW),
    Some(joint::RIGHT_WRIST),
    Some(joint::LEFT_SHOULDER),
    Some(joint::LEFT_ELBOW),
    Some(joint::LEFT_WRIST),
    Some(joint::RIGHT_HIP),
    Some(joint::RIGHT_KNEE),
    Some(joint::RIGHT_ANKLE),
    Some(joint::LEFT_HIP),
    Some(joint::LEFT_KNEE),
    Some(joint::LEFT_ANKLE),
    Some(5),
    Some(2),
    Some(joint::RIGHT_EAR),
    Some(joint::LEFT_EAR),
];

fn get(p: &PoseLandmarks, i: usize) -> Keypoint {
    p.image.get(i).map(Keypoint::from).unwrap_or(Keypoint {
        x: 0.0,
        y: 0.0,
        score: 0.0,
    })
}

/// The 17 COCO keypoints.
pub fn coco17(p: &PoseLandmarks) -> Vec<Keypoint> {
    COCO17_FROM_BLAZEPOSE.iter().map(|&i| get(p, i)).collect()
}

/// The 18 OpenPose (COCO-18) keypoints; the neck is the shoulders' midpoint
/// with the lower of their two scores.
pub fn openpose18(p: &PoseLandmarks) -> Vec<Keypoint> {
    OPENPOSE18_FROM_BLAZEPOSE
        .iter()
        .map(|src| match src {
            Some(i) => get(p, *i),
            None => {
                let (l, r) = (get(p, joint::LEFT_SHOULDER), get(p, joint::RIGHT_SHOULDER));
                Keypoint {
                    x: (l.x + r.x) / 2.0,
                    y: (l.y + r.y) / 2.0,
                    score: l.score.min(r.score),
                }
            }
        })
        .collect()
}

/// The standard OpenPose output JSON for one person:
/// `{"version":1.3,"people":[{"pose_keypoints_2d":[x,y,c,…]}],"canvas_width":…}`.
/// Keypoints whose score is below `min_score` are written as `0,0,0`, which
/// is how OpenPose marks a missing joint.
pub fn openpose_json(p: &PoseLandmarks, min_score: f32) -> serde_json::Value {
    let flat: Vec<f32> = openpose18(p)
        .iter()
        .flat_map(|k| {
            if k.score >= min_score {
                [k.x, k.y, k.score]
            } else {
                [0.0, 0.0, 0.0]
            }
        })
        .collect();
    serde_json::json!({
        "version": 1.3,
        "people": [{
            "person_id": [-1],
            "pose_keypoints_2d": flat,
            "face_keypoints_2d": [],
            "hand_left_keypoints_2d": [],
            "hand_right_keypoints_2d": [],
        }],
        "canvas_width": p.image_size[0],
        "canvas_height": p.image_size[1],
    })
}

/// Writes [`openpose_json`] to `out` (e.g. a `keypoints_openpose.json` file).
pub fn write_openpose_json(
    p: &PoseLandmarks,
    min_score: f32,
    out: impl std::io::Write,
) -> std::io::Result<()> {
    serde_json::to_writer(out, &openpose_json(p, min_score)).map_err(std::io::Error::other)
}

#[cfg(test)]
mod tests {
    use super::*;
    use garmax_core::pose::BLAZEPOSE_NAMES;

    fn pose() -> PoseLandmarks {
        PoseLandmarks {
            image_size: [100, 200],
            image: (0..33)
                .map(|i| Landmark {
                    x: i as f32,
                    y: 2.0 * i as f32,
                    z: 0.0,
                    visibility: 0.9,
                    presence: 0.9,
                })
                .collect(),
            world: vec![[0.0; 3]; 33],
        }
    }

    #[test]
    fn coco_names_match_blazepose() {
        for (name, &i) in COCO17_NAMES.iter().zip(&COCO17_FROM_BLAZEPOSE) {
            assert_eq!(*name, BLAZEPOSE_NAMES[i]);
        }
        for (name, src) in OPENPOSE18_NAMES.iter().zip(&OPENPOSE18_FROM_BLAZEPOSE) {
            if let Some(i) = src {
                assert_eq!(*name, BLAZEPOSE_NAMES[*i]);
            }
        }
    }

    #[test]
    fn neck_and_json() {
        let p = pose();
        let op = openpose18(&p);
        assert_eq!(op[1].x, 11.5);
        let json = openpose_json(&p, 0.5);
        let flat = json["people"][0]["pose_keypoints_2d"].as_array().unwrap();
        assert_eq!(flat.len(), 54);
        assert_eq!(flat[0].as_f64().unwrap(), 0.0);
        assert_eq!(json["canvas_height"], 200);
        let mut buf = Vec::new();
        write_openpose_json(&p, 0.5, &mut buf).unwrap();
        let back: serde_json::Value = serde_json::from_slice(&buf).unwrap();
        assert_eq!(back, json);
        let none = openpose_json(&p, 0.95);
        assert!(
            none["people"][0]["pose_keypoints_2d"]
                .as_array()
                .unwrap()
                .iter()
                .all(|v| v.as_f64() == Some(0.0))
        );
    }
}
