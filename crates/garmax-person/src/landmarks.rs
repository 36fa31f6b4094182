//! Decoding of the BlazePose landmark model's outputs, as
//! `pose_landmark_by_roi_cpu` does it: landmarks from the 195-value tensor
//! (x, y, z, visibility, presence for 39 points, in 256-pixel tensor units),
//! refined by the heatmap, projected from the ROI to the image; world
//! landmarks rotated by the ROI angle; the segmentation logits mapped back to
//! the image.

use crate::detection::sigmoid;
use crate::geometry::{CropTransform, NormRect, round_to_i64};

/// Landmarks the model predicts: 33 body points + 6 auxiliary (the first two
/// auxiliary ones define the next ROI).
pub const MODEL_LANDMARKS: usize = 39;

/// A landmark in normalised coordinates of some frame (ROI or image).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct NormLandmark {
    pub x: f32,
    pub y: f32,
    pub z: f32,
    pub visibility: f32,
    pub presence: f32,
}

/// `TensorsToLandmarksCalculator`: raw values → ROI-normalised landmarks
/// with sigmoid visibility and presence.
pub fn decode_landmarks(
    raw: &[f32],
    count: usize,
    input_size: f32,
    values_per_landmark: usize,
) -> Vec<NormLandmark> {
    if values_per_landmark == 0 {
        return Vec::new();
    }
    (0..count)
        .filter(|i| (i + 1) * values_per_landmark <= raw.len())
        .map(|i| {
            let r = &raw[i * values_per_landmark..(i + 1) * values_per_landmark];
            let get = |k: usize| r.get(k).copied();
            NormLandmark {
                x: r[0] / input_size,
                y: get(1).unwrap_or(0.0) / input_size,
                z: get(2).unwrap_or(0.0) / input_size,
                visibility: get(3).map(sigmoid).unwrap_or(0.0),
                presence: get(4).map(sigmoid).unwrap_or(0.0),
            }
        })
        .collect()
}

/// `RefineLandmarksFromHeatmapCalculator` (kernel 7, min confidence 0.5):
/// where the heatmap is confident around a landmark, replace its x/y by the
/// confidence-weighted mean cell position in a 7×7 window.
pub fn refine_from_heatmap(
    landmarks: &mut [NormLandmark],
    heatmap: &[f32],
    hm_h: usize,
    hm_w: usize,
    channels: usize,
) {
    const KERNEL: usize = 7;
    const MIN_CONFIDENCE: f32 = 0.5;
    if heatmap.len() < hm_h * hm_w * channels || hm_h == 0 || hm_w == 0 {
        return;
    }
    let offset = ((KERNEL - 1) / 2) as i64;
    let (w, h) = (hm_w as i64, hm_h as i64);
    for (i, lm) in landmarks.iter_mut().enumerate().take(channels) {
        // MediaPipe's integer semantics, quirks included: the centre is
        // truncated toward zero (so -0.9 becomes column 0 and is refined),
        // and the bounds check compares the column, never the row, with
        // the height (a point just below the crop refines from the last
        // rows). Matching them is what keeps a landmark near the crop's
        // edge where MediaPipe puts it.
        let center_col = (lm.x * hm_w as f32) as i64;
        let center_row = (lm.y * hm_h as f32) as i64;
        if center_col < 0 || center_col >= w || center_row < 0 || center_col >= h {
            continue;
        }
        let begin_col = (center_col - offset).max(0) as usize;
        let end_col = (center_col + offset + 1).min(w).max(0) as usize;
        let begin_row = (center_row - offset).max(0) as usize;
        let end_row = (center_row + offset + 1).min(h).max(0) as usize;
        let (mut sum, mut wc, mut wr, mut max_conf) = (0f32, 0f32, 0f32, 0f32);
        for row in begin_row..end_row {
            for col in begin_col..end_col {
                let conf = sigmoid(heatmap[(row * hm_w + col) * channels + i]);
                sum += conf;
                max_conf = max_conf.max(conf);
                wc += col as f32 * conf;
                wr += row as f32 * conf;
            }
        }
        if max_conf >= MIN_CONFIDENCE && sum > 0.0 {
            lm.x = wc / hm_w as f32 / sum;
            lm.y = wr / hm_h as f32 / sum;
        }
    }
}

/// `LandmarkProjectionCalculator`: ROI-normalised → image-normalised.
pub fn project(lm: &NormLandmark, rect: &NormRect) -> NormLandmark {
    let (x, y) = (lm.x - 0.5, lm.y - 0.5);
    let (s, c) = rect.rotation.sin_cos();
    let nx = c * x - s * y;
    let ny = s * x + c * y;
    NormLandmark {
        x: nx * rect.width + rect.x_center,
        y: ny * rect.height + rect.y_center,
        z: lm.z * rect.width,
        ..*lm
    }
}

/// `WorldLandmarkProjectionCalculator`: rotate metric landmarks by the ROI
/// angle so they are expressed in the image's orientation.
pub fn project_world(raw: &[f32], rect: &NormRect, count: usize) -> Vec<[f32; 3]> {
    let (s, c) = rect.rotation.sin_cos();
    raw.chunks_exact(3)
        .take(count)
        .map(|p| [c * p[0] - s * p[1], s * p[0] + c * p[1], p[2]])
        .collect()
}

/// The segmentation logits (an `n×n` tensor over the ROI) as an image-sized
/// 8-bit probability mask (255 = 1): sigmoid first, then for each image
/// pixel a bilinear sample at its position in the ROI, 0 outside — MediaPipe's
/// `BORDER_ZERO` warp of the activated mask. Written straight to bytes: the
/// full-resolution mask is the costliest step after the models.
pub fn mask_to_image(
    logits: &[f32],
    n_w: usize,
    n_h: usize,
    crop: &CropTransform,
    image_size: (u32, u32),
) -> Vec<u8> {
    let (iw, ih) = (image_size.0 as usize, image_size.1 as usize);
    let mut out = vec![0u8; iw * ih];
    if logits.len() < n_w * n_h || n_w == 0 || n_h == 0 {
        return out;
    }
    // Probabilities first: MediaPipe warps the activated mask, so zero
    // padding means probability 0 (not logit 0).
    let probs: Vec<f32> = logits[..n_w * n_h].iter().map(|&v| sigmoid(v)).collect();
    let at = |x: i64, y: i64| -> f32 {
        if x < 0 || y < 0 || x >= n_w as i64 || y >= n_h as i64 {
            0.0
        } else {
            probs[y as usize * n_w + x as usize]
        }
    };
    // Image pixel → mask pixel is affine: precompute it instead of calling
    // `CropTransform::to_tensor` (a sin/cos each) per pixel.
    if !(crop.w.abs() > f32::EPSILON && crop.h.abs() > f32::EPSILON) {
        return out;
    }
    let (s, c) = (crop.rotation as f64).sin_cos();
    let (kx, ky) = (n_w as f64 / crop.w as f64, n_h as f64 / crop.h as f64);
    let (cx, cy) = (crop.cx as f64, crop.cy as f64);
    // Incremental form of the affine map in 1/32-pixel units: one add per
    // pixel and coordinate instead of a matrix product.
    let (ax, ay) = (c * kx * 32.0, -s * ky * 32.0); // d(q)/dx
    let (lim_w, lim_h) = (n_w as i64 * 32, n_h as i64 * 32);
    for y in 0..ih {
        let dy = y as f64 - cy;
        let dx0 = -cx;
        let mut qxf = (c * dx0 + s * dy) * kx * 32.0 + 16.0 * n_w as f64;
        let mut qyf = (-s * dx0 + c * dy) * ky * 32.0 + 16.0 * n_h as f64;
        let row = &mut out[y * iw..(y + 1) * iw];
        for px in row.iter_mut() {
            // 1/32-pixel coordinates as OpenCV's warpAffine uses them.
            let (qx, qy) = (round_to_i64(qxf), round_to_i64(qyf));
            qxf += ax;
            qyf += ay;
            if !(qx > -32 && qy > -32 && qx < lim_w && qy < lim_h) {
                continue;
            }
            let (x0, y0) = (qx >> 5, qy >> 5);
            let (fx, fy) = ((qx & 31) as f32 / 32.0, (qy & 31) as f32 / 32.0);
            let (p00, p10, p01, p11) =
                if x0 >= 0 && y0 >= 0 && x0 + 1 < n_w as i64 && y0 + 1 < n_h as i64 {
                    let i = y0 as usize * n_w + x0 as usize;
                    (probs[i], probs[i + 1], probs[i + n_w], probs[i + n_w + 1])
                } else {
                    (
                        at(x0, y0),
                        at(x0 + 1, y0),
                        at(x0, y0 + 1),
                        at(x0 + 1, y0 + 1),
                    )
                };
            let top = p00 * (1.0 - fx) + p10 * fx;
            let bottom = p01 * (1.0 - fx) + p11 * fx;
            // Probabilities are in [0, 1], so +0.5 and truncation rounds.
            *px = ((top * (1.0 - fy) + bottom * fy) * 255.0 + 0.5) as u8;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn projection_rotates_about_the_roi_centre() {
        let rect = NormRect {
            x_center: 0.5,
            y_center: 0.5,
            width: 0.5,
            height: 0.5,
            rotation: std::f32::consts::FRAC_PI_2,
        };
        let lm = NormLandmark {
            x: 1.0,
            y: 0.5,
            z: 0.1,
            visibility: 1.0,
            presence: 1.0,
        };
        let p = project(&lm, &rect);
        // (0.5, 0) rotated by +90° is (0, 0.5) → scaled by 0.5, shifted.
        assert!((p.x - 0.5).abs() < 1e-6 && (p.y - 0.75).abs() < 1e-6);
        assert!((p.z - 0.05).abs() < 1e-6);
    }

    #[test]
    fn heatmap_refinement_moves_to_the_peak() {
        let (h, w, c) = (8, 8, 1);
        let mut hm = vec![-10.0f32; h * w * c];
        hm[3 * w + 5] = 10.0; // row 3, col 5
        let mut lms = [NormLandmark {
            x: 4.2 / 8.0,
            y: 3.1 / 8.0,
            z: 0.0,
            visibility: 1.0,
            presence: 1.0,
        }];
        refine_from_heatmap(&mut lms, &hm, h, w, c);
        assert!((lms[0].x - 5.0 / 8.0).abs() < 1e-3, "{}", lms[0].x);
        assert!((lms[0].y - 3.0 / 8.0).abs() < 1e-3);
        // Not confident anywhere: untouched.
        let mut lms2 = [NormLandmark {
            x: 0.5,
            y: 0.5,
            z: 0.0,
            visibility: 1.0,
            presence: 1.0,
        }];
        refine_from_heatmap(&mut lms2, &vec![-10.0; 64], h, w, c);
        assert_eq!(lms2[0].x, 0.5);
    }

    #[test]
    fn heatmap_refinement_keeps_mediapipes_integer_edges() {
        let (h, w, c) = (8, 8, 1);
        let mut hm = vec![-10.0f32; h * w * c];
        hm[7 * w + 1] = 10.0; // row 7, col 1
        let at = |x: f32, y: f32| {
            let mut lms = [NormLandmark {
                x,
                y,
                z: 0.0,
                visibility: 1.0,
                presence: 1.0,
            }];
            refine_from_heatmap(&mut lms, &hm, h, w, c);
            // Cells away from the peak still weigh sigmoid(-10) ≈ 5e-5.
            (
                (lms[0].x * 1e3).round() / 1e3,
                (lms[0].y * 1e3).round() / 1e3,
            )
        };
        // Just left of the crop: the truncated centre is column 0, refined.
        assert_eq!(at(-0.05, 6.5 / 8.0), (0.125, 0.875));
        // Just below it: the row is never bounds-checked, rows 5..7 are read.
        assert_eq!(at(1.0 / 8.0, 8.5 / 8.0), (0.125, 0.875));
        // A whole column outside: untouched.
        assert_eq!(at(-1.5 / 8.0, 6.5 / 8.0), (-0.188, 0.813));
    }

    #[test]
    fn mask_maps_back_to_the_image() {
        // ROI = right half of a 4×2 image; mask all "person".
        let crop = CropTransform {
            cx: 3.0,
            cy: 1.0,
            w: 2.0,
            h: 2.0,
            rotation: 0.0,
            out_w: 4,
            out_h: 4,
        };
        let m = mask_to_image(&[10.0; 16], 4, 4, &crop, (4, 2));
        assert_eq!(m[0], 0, "left half outside the ROI");
        assert!(m[3] == 255 || m[2] == 255, "{m:?}");
    }
}
