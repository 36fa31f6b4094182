//! Stage 1 for a persona pose without a reference photo: the body model
//! rendered as a neutral grey mannequin, standing, arms lowered, framed from
//! the head to below the hips, with its BlazePose landmarks and silhouette
//! taken from the model itself (no person analysis needed).

use garmax_body::camera::Camera;
use garmax_body::{BodyModel, BodyParams, raster};
use garmax_core::pose::{Landmark, PoseLandmarks};
use image::{GrayImage, Rgba, RgbaImage};

/// A rendered mannequin: the photo stage 2 dresses, with exact landmarks.
pub struct Mannequin {
    pub photo: RgbaImage,
    pub landmarks: PoseLandmarks,
    pub mask: GrayImage,
}

/// Joint indices in the SMPL layout used by `BodyParams::pose`.
const LEFT_SHOULDER: usize = 16;
const RIGHT_SHOULDER: usize = 17;

/// Renders the model's mean shape at `w`×`h`.
pub fn render(model: &BodyModel, w: u32, h: u32) -> Mannequin {
    let cam = Camera::for_image(w, h);
    let mut params = BodyParams::default();
    // Camera axes are y down, z forward: turn the model to face the camera
    // upright (as the body crate's own fallback view does).
    params.pose[0] = [std::f64::consts::PI, 0.0, 0.0];
    lower_arms(model, &mut params);
    // Frame: nose to hips fill 60 % of the height, centred.
    let kp = model.pose(&params).keypoints;
    let nose = kp[0];
    let hip = mid(kp[23], kp[24]);
    let span = ((hip[1] - nose[1]).abs() as f64).max(0.1);
    let z = cam.focal * span / (0.6 * h as f64);
    let centre = mid(nose, hip);
    params.translation = [
        -centre[0] as f64,
        -centre[1] as f64 + 0.08 * span,
        z - centre[2] as f64,
    ];
    let posed = model.pose(&params);
    let g = raster::rasterize(&posed.vertices, model.faces(), &cam, true);
    let normals = model.vertex_normals(&posed.vertices);
    let nmap = raster::normal_map(&g, model.faces(), &normals);
    let mask = g.silhouette();
    // Matte grey plaster lit from the upper left and the front.
    let light = normalise([-0.35, 0.45, 0.82]);
    let mut photo = RgbaImage::from_pixel(w, h, Rgba([236, 236, 232, 255]));
    for (x, y, p) in photo.enumerate_pixels_mut() {
        if mask.get_pixel(x, y).0[0] == 0 {
            continue;
        }
        let n = nmap.get_pixel(x, y).0.map(|c| c as f32 / 127.5 - 1.0);
        let lambert = (n[0] * light[0] + n[1] * light[1] + n[2] * light[2]).max(0.0);
        let v = (60.0 + 150.0 * lambert).clamp(0.0, 255.0) as u8;
        *p = Rgba([v, v, (v as f32 * 0.97) as u8, 255]);
    }
    let hip_c = mid(posed.keypoints[23], posed.keypoints[24]);
    let image: Vec<Landmark> = posed
        .keypoints
        .iter()
        .map(|k| {
            let q = cam
                .project([k[0] as f64, k[1] as f64, k[2] as f64])
                .unwrap_or([f64::NAN; 2]);
            Landmark {
                x: q[0] as f32,
                y: q[1] as f32,
                z: k[2] - hip_c[2],
                visibility: 0.99,
                presence: 0.99,
            }
        })
        .collect();
    let world = posed
        .keypoints
        .iter()
        .map(|k| [k[0] - hip_c[0], k[1] - hip_c[1], k[2] - hip_c[2]])
        .collect();
    Mannequin {
        photo,
        landmarks: PoseLandmarks {
            image_size: [w, h],
            image,
            world,
        },
        mask,
    }
}

/// Brings the arms down from the rest pose toward the body, so
/// a tee's sleeves hang as in a catalogue photo. The sign of the rotation
/// that lowers an arm depends on the rig's axes, so it is found by trying
/// both and keeping the one that moves the elbow down (image y grows).
fn lower_arms(model: &BodyModel, params: &mut BodyParams) {
    for (joint, elbow) in [(LEFT_SHOULDER, 13usize), (RIGHT_SHOULDER, 14usize)] {
        let mut best = (f32::MIN, 0.0);
        for angle in [-0.55f64, 0.55] {
            let mut p = params.clone();
            p.pose[joint] = [0.0, 0.0, angle];
            let kp = model.pose(&p).keypoints;
            // y down after the global flip: larger y = lower elbow.
            let drop = kp[elbow][1] - kp[joint_to_shoulder_kp(joint)][1];
            if drop > best.0 {
                best = (drop, angle);
            }
        }
        params.pose[joint] = [0.0, 0.0, best.1];
    }
}

fn joint_to_shoulder_kp(joint: usize) -> usize {
    if joint == LEFT_SHOULDER { 11 } else { 12 }
}

fn mid(a: [f32; 3], b: [f32; 3]) -> [f32; 3] {
    [
        (a[0] + b[0]) / 2.0,
        (a[1] + b[1]) / 2.0,
        (a[2] + b[2]) / 2.0,
    ]
}

fn normalise(v: [f32; 3]) -> [f32; 3] {
    let l = (v[0] * v[0] + v[1] * v[1] + v[2] * v[2]).sqrt();
    [v[0] / l, v[1] / l, v[2] / l]
}
