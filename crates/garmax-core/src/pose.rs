//! Body landmarks as the person analysis reports them and the body fitter,
//! renderer and pose validator consume them: MediaPipe BlazePose's 33 points.

use serde::{Deserialize, Serialize};

/// Number of BlazePose landmarks.
pub const BLAZEPOSE_COUNT: usize = 33;

/// BlazePose landmark names, in the model's output order.
pub const BLAZEPOSE_NAMES: [&str; BLAZEPOSE_COUNT] = [
    "nose",
    "left_eye_inner",
    "left_eye",
    "left_eye_outer",
    "right_eye_inner",
    "right_eye",
    "right_eye_outer",
    "left_ear",
    "right_ear",
    "mouth_left",
    "mouth_right",
    "left_shoulder",
    "right_shoulder",
    "left_elbow",
    "right_elbow",
    "left_wrist",
    "right_wrist",
    "left_pinky",
    "right_pinky",
    "left_index",
    "right_index",
    "left_thumb",
    "right_thumb",
    "left_hip",
    "right_hip",
    "left_knee",
    "right_knee",
    "left_ankle",
    "right_ankle",
    "left_heel",
    "right_heel",
    "left_foot_index",
    "right_foot_index",
];

/// Indices into [`BLAZEPOSE_NAMES`] for the joints other crates name directly.
pub mod joint {
    pub const NOSE: usize = 0;
    pub const LEFT_EAR: usize = 7;
    pub const RIGHT_EAR: usize = 8;
    pub const LEFT_SHOULDER: usize = 11;
    pub const RIGHT_SHOULDER: usize = 12;
    pub const LEFT_ELBOW: usize = 13;
    pub const RIGHT_ELBOW: usize = 14;
    pub const LEFT_WRIST: usize = 15;
    pub const RIGHT_WRIST: usize = 16;
    pub const LEFT_HIP: usize = 23;
    pub const RIGHT_HIP: usize = 24;
    pub const LEFT_KNEE: usize = 25;
    pub const RIGHT_KNEE: usize = 26;
    pub const LEFT_ANKLE: usize = 27;
    pub const RIGHT_ANKLE: usize = 28;
}

/// One landmark in image coordinates.
///
/// `x`, `y` are pixels of the analysed photo (after EXIF orientation); `z` is
/// MediaPipe's relative depth in the same scale as `x` (smaller = nearer the
/// camera), hip-centred. `visibility` and `presence` are probabilities.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Landmark {
    pub x: f32,
    pub y: f32,
    pub z: f32,
    pub visibility: f32,
    pub presence: f32,
}

/// OpenPose COCO-18 keypoint names, in OpenPose order (the layout ControlNet's
/// OpenPose conditioning and the `pose_keypoints_2d` JSON use).
pub const OPENPOSE18_NAMES: [&str; 18] = [
    "nose",
    "neck",
    "right_shoulder",
    "right_elbow",
    "right_wrist",
    "left_shoulder",
    "left_elbow",
    "left_wrist",
    "right_hip",
    "right_knee",
    "right_ankle",
    "left_hip",
    "left_knee",
    "left_ankle",
    "right_eye",
    "left_eye",
    "right_ear",
    "left_ear",
];

/// OpenPose's 18 keypoint/limb colours (RGB), as the ControlNet annotator
/// draws them: keypoint `i` and limb `i` share colour `i`.
pub const OPENPOSE_COLORS: [[u8; 3]; 18] = [
    [255, 0, 0],
    [255, 85, 0],
    [255, 170, 0],
    [255, 255, 0],
    [170, 255, 0],
    [85, 255, 0],
    [0, 255, 0],
    [0, 255, 85],
    [0, 255, 170],
    [0, 255, 255],
    [0, 170, 255],
    [0, 85, 255],
    [0, 0, 255],
    [85, 0, 255],
    [170, 0, 255],
    [255, 0, 255],
    [255, 0, 170],
    [255, 0, 85],
];

/// OpenPose limbs as pairs of COCO-18 indices, in the annotator's drawing
/// order.
pub const OPENPOSE_LIMBS: [[usize; 2]; 17] = [
    [1, 2],
    [1, 5],
    [2, 3],
    [3, 4],
    [5, 6],
    [6, 7],
    [1, 8],
    [8, 9],
    [9, 10],
    [1, 11],
    [11, 12],
    [12, 13],
    [1, 0],
    [0, 14],
    [14, 16],
    [0, 15],
    [15, 17],
];

/// The 33 landmarks of one person in the image and in metric world space.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PoseLandmarks {
    /// Width and height of the photo the landmarks refer to.
    pub image_size: [u32; 2],
    /// 33 landmarks in image pixels.
    pub image: Vec<Landmark>,
    /// 33 landmarks in metres, origin between the hips, y down, as MediaPipe's
    /// world landmarks are.
    pub world: Vec<[f32; 3]>,
}

impl PoseLandmarks {
    /// Length of the image diagonal in pixels, the scale landmark errors are
    /// reported against.
    pub fn image_diagonal(&self) -> f32 {
        let [w, h] = self.image_size;
        ((w as f32).powi(2) + (h as f32).powi(2)).sqrt()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn named_indices_match_the_name_table() {
        assert_eq!(BLAZEPOSE_NAMES[joint::LEFT_SHOULDER], "left_shoulder");
        assert_eq!(BLAZEPOSE_NAMES[joint::RIGHT_HIP], "right_hip");
        assert_eq!(BLAZEPOSE_NAMES[joint::RIGHT_ANKLE], "right_ankle");
        assert_eq!(BLAZEPOSE_NAMES[joint::LEFT_EAR], "left_ear");
    }
}
