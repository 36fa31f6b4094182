//! Stage 1 for a persona pose without a reference photo: the body model
//! rendered as a neutral grey mannequin in the named pose
//! ([`garmax_body::poses`]: "Arms Crossed", "Contrapposto", "Hands in
//! Pockets", …), framed from the head to below the hips (and up to a raised
//! hand), with its BlazePose landmarks, silhouette, per-pixel body part and
//! depth taken from the model itself (no person analysis needed). The part
//! map and depth are the occlusion order: where a forearm lies in front of
//! the torso, its pixels belong to the forearm.

use garmax_body::camera::Camera;
use garmax_body::poses::{self, NamedPose};
use garmax_body::{BodyModel, BodyParams, BodyPart, NUM_BETAS, raster};
use garmax_core::pose::{Landmark, PoseLandmarks};
use image::{GrayImage, Rgba, RgbaImage};

/// A rendered mannequin: the photo stage 2 dresses, with exact landmarks
/// and the exact body behind them.
pub struct Mannequin {
    pub photo: RgbaImage,
    pub landmarks: PoseLandmarks,
    pub mask: GrayImage,
    /// Canonical name of the pose drawn.
    pub pose: &'static str,
    /// The body drawn (camera space) and the camera that saw it.
    pub params: BodyParams,
    pub camera: Camera,
    /// Front-most body part per pixel, row-major (`None`: background).
    pub parts: Vec<Option<BodyPart>>,
    /// Camera-space depth of the front-most surface per pixel, metres
    /// (`f32::INFINITY`: background).
    pub depth: Vec<f32>,
}

/// Renders the model's mean shape in `pose` at `w`×`h`.
pub fn render(model: &BodyModel, pose: &NamedPose, w: u32, h: u32) -> Mannequin {
    let cam = Camera::for_image(w, h);
    let body = pose.body_params(model, &[0.0; NUM_BETAS]);
    let mut params = poses::facing_camera(&body);
    params.translation = framing(model, &params, &cam);
    let posed = model.pose(&params);
    let g = raster::rasterize(&posed.vertices, model.faces(), &cam, true);
    let normals = model.vertex_normals(&posed.vertices);
    let nmap = raster::normal_map(&g, model.faces(), &normals);
    let mask = g.silhouette();
    let photo = shade(&nmap, &mask);
    let landmarks = landmarks_of(&posed.keypoints, &cam);
    Mannequin {
        photo,
        landmarks,
        mask,
        pose: pose.name,
        parts: raster::part_labels(&g, model),
        depth: g.depth,
        params,
        camera: cam,
    }
}

/// The translation that frames the upright body: nose to hips (or the
/// highest hand to the hips, when a hand is raised above the nose) fill
/// 60 % of the height, centred, slightly low.
fn framing(model: &BodyModel, params: &BodyParams, cam: &Camera) -> [f64; 3] {
    let kp = model.pose(params).keypoints;
    let nose = kp[0];
    let hip = mid(kp[23], kp[24]);
    // y grows downwards: the smallest y is the highest point. Index
    // knuckles (19, 20) stand for the hands.
    let top = [kp[0][1], kp[19][1], kp[20][1]]
        .into_iter()
        .fold(f32::MAX, f32::min);
    let span = ((hip[1] - top).abs() as f64).max(0.1);
    let z = cam.focal * span / (0.6 * cam.height as f64);
    let centre_y = (top + hip[1]) as f64 / 2.0;
    let centre = mid(nose, hip);
    [
        -centre[0] as f64,
        -centre_y + 0.08 * span,
        z - centre[2] as f64,
    ]
}

/// Matte grey plaster lit from the upper left and the front.
fn shade(nmap: &image::RgbImage, mask: &GrayImage) -> RgbaImage {
    let light = normalise([-0.35, 0.45, 0.82]);
    let mut photo = RgbaImage::from_pixel(mask.width(), mask.height(), Rgba([236, 236, 232, 255]));
    for (x, y, p) in photo.enumerate_pixels_mut() {
        if mask.get_pixel(x, y).0[0] == 0 {
            continue;
        }
        let n = nmap.get_pixel(x, y).0.map(|c| c as f32 / 127.5 - 1.0);
        let lambert = (n[0] * light[0] + n[1] * light[1] + n[2] * light[2]).max(0.0);
        let v = (60.0 + 150.0 * lambert).clamp(0.0, 255.0) as u8;
        *p = Rgba([v, v, (v as f32 * 0.97) as u8, 255]);
    }
    photo
}

/// The model's 33 BlazePose points as landmarks: projected pixels, and
/// hip-centred camera-space metres for the world landmarks.
fn landmarks_of(keypoints: &[[f32; 3]; 33], cam: &Camera) -> PoseLandmarks {
    let hip_c = mid(keypoints[23], keypoints[24]);
    let image: Vec<Landmark> = keypoints
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
    let world = keypoints
        .iter()
        .map(|k| [k[0] - hip_c[0], k[1] - hip_c[1], k[2] - hip_c[2]])
        .collect();
    PoseLandmarks {
        image_size: [cam.width, cam.height],
        image,
        world,
    }
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

#[cfg(test)]
mod tests {
    use std::sync::OnceLock;

    use super::*;
    use garmax_core::{Coded, ErrorCode};

    const W: u32 = 640;
    const H: u32 = 800;

    /// The body model from the asset cache; missing assets fail the test
    /// (the test command fetches them first).
    fn model() -> &'static BodyModel {
        static M: OnceLock<BodyModel> = OnceLock::new();
        M.get_or_init(|| {
            let cache = garmax_assets::Cache::resolve().expect("asset cache");
            crate::body_model(&cache).expect("body model (run `garmax models fetch`)")
        })
    }

    fn draw(name: &str) -> Mannequin {
        render(model(), garmax_body::find_pose(name).unwrap(), W, H)
    }

    fn px(m: &Mannequin, i: usize) -> (f32, f32) {
        (m.landmarks.image[i].x, m.landmarks.image[i].y)
    }

    fn at((x, y): (f32, f32)) -> usize {
        y.round() as usize * W as usize + x.round() as usize
    }

    /// Median camera depth of the torso's visible pixels.
    fn torso_depth(m: &Mannequin) -> f32 {
        let mut d: Vec<f32> = m
            .parts
            .iter()
            .zip(&m.depth)
            .filter(|(p, _)| **p == Some(BodyPart::Torso))
            .map(|(_, d)| *d)
            .collect();
        d.sort_by(f32::total_cmp);
        d[d.len() / 2]
    }

    const ARM_PARTS: [BodyPart; 4] = [
        BodyPart::LeftForearm,
        BodyPart::RightForearm,
        BodyPart::LeftHand,
        BodyPart::RightHand,
    ];

    #[test]
    fn arms_crossed_wrists_cross_the_mid_line_in_front_of_the_chest() {
        let m = draw("arms crossed");
        let (ls, rs) = (px(&m, 11), px(&m, 12));
        let (lh, rh) = (px(&m, 23), px(&m, 24));
        let mid_x = (ls.0 + rs.0) / 2.0;
        let (lw, rw) = (px(&m, 15), px(&m, 16));
        // Facing the camera, the person's left is on the image's right.
        assert!(ls.0 > rs.0);
        assert!(
            lw.0 < mid_x - 5.0 && rw.0 > mid_x + 5.0,
            "{lw:?} {rw:?} mid {mid_x}"
        );
        let (sy, hy) = ((ls.1 + rs.1) / 2.0, (lh.1 + rh.1) / 2.0);
        let torso = torso_depth(&m);
        for w in [lw, rw] {
            let t = (hy - w.1) / (hy - sy);
            assert!((0.45..0.95).contains(&t), "wrist height fraction {t}");
            // The wrist's pixel shows a forearm or a hand, nearer than the
            // chest: the depth order stage 2 needs.
            let i = at(w);
            let part = m.parts[i];
            assert!(
                part.is_some_and(|p| ARM_PARTS.contains(&p)),
                "wrist pixel is {part:?}"
            );
            assert!(m.depth[i] < torso - 0.03, "{} vs torso {torso}", m.depth[i]);
        }
        // Forearms cover a real share of the torso's outline.
        let forearm_px = m
            .parts
            .iter()
            .filter(|p| matches!(p, Some(BodyPart::LeftForearm | BodyPart::RightForearm)))
            .count();
        assert!(forearm_px > 3000, "{forearm_px} forearm pixels");
    }

    #[test]
    fn hands_in_pockets_wrists_at_the_hip_front() {
        let m = draw("Hands in Pockets");
        let shoulder_w = px(&m, 11).0 - px(&m, 12).0;
        let torso_h = (px(&m, 23).1 + px(&m, 24).1 - px(&m, 11).1 - px(&m, 12).1) / 2.0;
        for (w, hip, e, s) in [(15, 23, 13, 11), (16, 24, 14, 12)] {
            let (wp, hp) = (px(&m, w), px(&m, hip));
            assert!((wp.1 - hp.1).abs() < 0.15 * torso_h, "{wp:?} {hp:?}");
            assert!((wp.0 - hp.0).abs() < 0.3 * shoulder_w, "{wp:?} {hp:?}");
            // In front of the hip joint (world z: camera axes, nearer is
            // smaller).
            assert!(m.landmarks.world[w][2] < m.landmarks.world[hip][2] - 0.04);
            // Elbows out beyond the shoulders.
            let mid = (px(&m, 11).0 + px(&m, 12).0) / 2.0;
            assert!((px(&m, e).0 - mid).abs() > (px(&m, s).0 - mid).abs());
        }
    }

    fn tilt_deg(a: (f32, f32), b: (f32, f32)) -> f32 {
        // Image y grows downwards: negate for the usual angle.
        (-(b.1 - a.1) / (b.0 - a.0)).atan().to_degrees()
    }

    #[test]
    fn contrapposto_hip_and_shoulder_lines_tilt_opposite_ways() {
        let m = draw("Contrapposto");
        let hips = tilt_deg(px(&m, 24), px(&m, 23));
        let shoulders = tilt_deg(px(&m, 12), px(&m, 11));
        assert!(hips.abs() >= 3.0, "hips {hips}°");
        assert!(
            hips * shoulders < 0.0,
            "hips {hips}° shoulders {shoulders}°"
        );
    }

    #[test]
    fn one_arm_raised_wrist_above_the_head() {
        let m = draw("One Arm Raised");
        let head_top = (0..m.parts.len())
            .filter(|&i| m.parts[i] == Some(BodyPart::Head))
            .map(|i| i / W as usize)
            .min()
            .unwrap() as f32;
        assert!(
            px(&m, 15).1 < head_top,
            "wrist {:?} head top {head_top}",
            px(&m, 15)
        );
        // Still in frame.
        assert!(px(&m, 19).1 > 0.0);
    }

    #[test]
    fn every_pose_renders_a_framed_mannequin() {
        for pose in &garmax_body::POSES {
            let m = render(model(), pose, W, H);
            let covered = m.mask.pixels().filter(|p| p.0[0] > 0).count();
            assert!(covered > 40_000, "{}: {covered}", pose.name);
            // Nothing touches the left or right edge; the head is inside.
            for y in 0..H {
                assert_eq!(m.mask.get_pixel(0, y).0[0], 0, "{}", pose.name);
                assert_eq!(m.mask.get_pixel(W - 1, y).0[0], 0, "{}", pose.name);
            }
            assert!(
                (0..W).all(|x| m.mask.get_pixel(x, 0).0[0] == 0),
                "{}",
                pose.name
            );
            assert_eq!(m.landmarks.image.len(), 33);
        }
    }

    #[test]
    fn guidance_of_a_mannequin_is_its_exact_body() {
        let m = draw("Arms Crossed");
        let rgb = image::DynamicImage::ImageRgba8(m.photo.clone()).to_rgb8();
        let g = crate::person::body_guidance(
            model(),
            &rgb,
            &m.landmarks,
            &m.mask,
            Some((&m.params, m.camera)),
            &mut crate::NoProgress,
        )
        .unwrap();
        // The parts map is the mannequin's own part labels.
        let mut differ = 0;
        for (i, p) in m.parts.iter().enumerate() {
            let c = g.parts.as_raw()[3 * i..3 * i + 3].to_vec();
            if c != p.map_or([0, 0, 0], |p| p.color()).to_vec() {
                differ += 1;
            }
        }
        assert_eq!(differ, 0);
        // Depth: the crossed forearms are brighter (nearer) than the torso.
        let wrist = at(px(&m, 15));
        let torso_px = (0..m.parts.len())
            .find(|&i| m.parts[i] == Some(BodyPart::Torso))
            .unwrap();
        assert!(g.depth.as_raw()[wrist] > g.depth.as_raw()[torso_px]);
        // smpl.json reports the exact body: no reprojection error.
        let err = g.smpl["fit_errors"]["keypoint_px"]["max_px"]
            .as_f64()
            .unwrap();
        assert!(err < 0.5, "{err}");
        assert!(g.smpl["fit_errors"]["silhouette_iou"].as_f64().unwrap() > 0.99);
        assert_eq!(g.smpl["theta"].as_array().unwrap().len(), 72);
    }

    #[test]
    fn an_unknown_pose_is_pos_006() {
        let e = garmax_body::find_pose("Handstand").unwrap_err();
        let e = crate::TryOnError::from(e);
        assert_eq!(e.code(), ErrorCode::InvalidPose);
        assert!(e.to_string().contains("Arms Crossed"), "{e}");
    }
}
