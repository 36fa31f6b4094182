//! Regions of interest and the image ↔ tensor mappings MediaPipe uses.
//!
//! MediaPipe describes every crop as a rotated rectangle in normalised image
//! coordinates (`NormalizedRect`) and builds tensors with OpenCV's
//! `warpPerspective`: tensor pixel `(x, y)` (integer, top-left origin) reads
//! the image at `centre + R(θ)·((x/W − ½)·w, (y/H − ½)·h)` in pixel units where
//! integer coordinates are pixel centres. [`CropTransform`] reproduces that
//! mapping exactly, so landmarks projected back land where MediaPipe puts them.

use std::f32::consts::PI;

/// A rotated rectangle in normalised image coordinates (MediaPipe's
/// `NormalizedRect`): centre and size as fractions of the image width/height,
/// rotation in radians, clockwise on screen (y points down).
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct NormRect {
    pub x_center: f32,
    pub y_center: f32,
    pub width: f32,
    pub height: f32,
    pub rotation: f32,
}

/// Wraps an angle into [-π, π), as MediaPipe's `NormalizeRadians`.
pub fn normalize_radians(angle: f32) -> f32 {
    angle - 2.0 * PI * ((angle + PI) / (2.0 * PI)).floor()
}

/// MediaPipe's `AlignmentPointsRectsCalculator` followed by
/// `RectTransformationCalculator`: a square ROI centred on `center`, whose
/// half side is the distance to `scale_point`, rotated so that the vector
/// centre → scale point points at `target_angle_deg` (90° = straight up),
/// then scaled by `scale` and squared on its long side.
///
/// Points are normalised image coordinates.
pub fn alignment_roi(
    center: (f32, f32),
    scale_point: (f32, f32),
    image_size: (u32, u32),
    target_angle_deg: f32,
    scale: f32,
) -> NormRect {
    let (iw, ih) = (image_size.0.max(1) as f32, image_size.1.max(1) as f32);
    let (x0, y0) = (center.0 * iw, center.1 * ih);
    let (x1, y1) = (scale_point.0 * iw, scale_point.1 * ih);
    let box_size = ((x1 - x0).powi(2) + (y1 - y0).powi(2)).sqrt() * 2.0;
    let rotation = normalize_radians(target_angle_deg.to_radians() - (-(y1 - y0)).atan2(x1 - x0));
    let rect = NormRect {
        x_center: x0 / iw,
        y_center: y0 / ih,
        width: box_size / iw,
        height: box_size / ih,
        rotation,
    };
    transform_rect(rect, image_size, scale, scale, true)
}

/// MediaPipe's `RectTransformationCalculator` without shifts: optionally make
/// the rectangle square on its long side (in pixels), then scale it.
pub fn transform_rect(
    rect: NormRect,
    image_size: (u32, u32),
    scale_x: f32,
    scale_y: f32,
    square_long: bool,
) -> NormRect {
    let (iw, ih) = (image_size.0.max(1) as f32, image_size.1.max(1) as f32);
    let (mut width, mut height) = (rect.width, rect.height);
    if square_long {
        let long_side = (width * iw).max(height * ih);
        width = long_side / iw;
        height = long_side / ih;
    }
    NormRect {
        width: width * scale_x,
        height: height * scale_y,
        ..rect
    }
}

/// The pixel-space mapping between an image and a `W×H` tensor cropped from
/// a rotated rectangle.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CropTransform {
    /// Rectangle centre in image pixels.
    pub cx: f32,
    pub cy: f32,
    /// Rectangle size in image pixels.
    pub w: f32,
    pub h: f32,
    pub rotation: f32,
    /// Tensor size.
    pub out_w: u32,
    pub out_h: u32,
}

impl CropTransform {
    /// The crop of `rect` (normalised) from an image of `image_size`.
    pub fn from_norm_rect(rect: &NormRect, image_size: (u32, u32), out_w: u32, out_h: u32) -> Self {
        let (iw, ih) = (image_size.0 as f32, image_size.1 as f32);
        CropTransform {
            cx: rect.x_center * iw,
            cy: rect.y_center * ih,
            w: rect.width * iw,
            h: rect.height * ih,
            rotation: rect.rotation,
            out_w,
            out_h,
        }
    }

    /// Tensor coordinates → image pixel coordinates.
    pub fn to_image(&self, x: f32, y: f32) -> (f32, f32) {
        let u = (x / self.out_w as f32 - 0.5) * self.w;
        let v = (y / self.out_h as f32 - 0.5) * self.h;
        let (s, c) = self.rotation.sin_cos();
        (self.cx + c * u - s * v, self.cy + s * u + c * v)
    }

    /// Image pixel coordinates → tensor coordinates (the inverse of
    /// [`CropTransform::to_image`]); `None` when the rectangle is degenerate.
    pub fn to_tensor(&self, px: f32, py: f32) -> Option<(f32, f32)> {
        if !(self.w.abs() > f32::EPSILON && self.h.abs() > f32::EPSILON) {
            return None;
        }
        let (dx, dy) = (px - self.cx, py - self.cy);
        let (s, c) = self.rotation.sin_cos();
        let u = c * dx + s * dy;
        let v = -s * dx + c * dy;
        Some((
            (u / self.w + 0.5) * self.out_w as f32,
            (v / self.h + 0.5) * self.out_h as f32,
        ))
    }
}

/// How pixels outside the image are filled when a crop reaches past it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Border {
    /// Black (MediaPipe's `BORDER_ZERO`, used for the detectors' letterbox).
    Zero,
    /// The nearest edge pixel (MediaPipe's default `BORDER_REPLICATE`).
    Replicate,
}

/// Crops `image` through `t` into an NHWC f32 tensor with values mapped from
/// [0, 255] to [`lo`, `hi`].
///
/// This is OpenCV's `warpPerspective(INTER_LINEAR)` on a `CV_8UC3` image, as
/// MediaPipe's `ImageToTensorCalculator` runs it, followed by `convertTo`:
/// source coordinates are rounded to 1/32 pixel (`INTER_BITS` = 5), the four
/// neighbours weighted by integer products of those 1/32 fractions, and the
/// sum rounded back to 8 bits. Reproducing the fixed-point arithmetic (not
/// just "bilinear") is what brings the landmarks within a few hundredths of a
/// percent of MediaPipe's.
pub fn crop_to_tensor(
    image: &image::RgbImage,
    t: &CropTransform,
    border: Border,
    lo: f32,
    hi: f32,
) -> Vec<f32> {
    let (ow, oh) = (t.out_w as usize, t.out_h as usize);
    let mut out = vec![lo; ow * oh * 3];
    let (iw, ih) = (image.width() as i64, image.height() as i64);
    if iw == 0 || ih == 0 || ow == 0 || oh == 0 {
        return out;
    }
    let raw = image.as_raw();
    let scale = (hi - lo) / 255.0;
    // Lookup of the 256 possible 8-bit results, so the inner loop does no
    // float maths besides the coordinate.
    let lut: Vec<f32> = (0..256).map(|v| lo + v as f32 * scale).collect();
    let (s, c) = (t.rotation as f64).sin_cos();
    let sx = t.w as f64 / t.out_w as f64;
    let sy = t.h as f64 / t.out_h as f64;
    // Source = centre + R·(u, v), affine in (x, y): precompute coefficients.
    let (a, b) = (c * sx, -s * sy);
    let (d, e) = (s * sx, c * sy);
    let (u0, v0) = (-0.5 * t.out_w as f64 * sx, -0.5 * t.out_h as f64 * sy);
    let f0 = t.cx as f64 + c * u0 - s * v0;
    let g0 = t.cy as f64 + s * u0 + c * v0;
    let clamp_x = |x: i64| x.clamp(0, iw - 1);
    let clamp_y = |y: i64| y.clamp(0, ih - 1);
    for y in 0..oh {
        let (yf, row) = (y as f64, y * ow * 3);
        for x in 0..ow {
            let xf = x as f64;
            let px = a * xf + b * yf + f0;
            let py = d * xf + e * yf + g0;
            if !(px.is_finite() && py.is_finite()) {
                continue;
            }
            // The clamp keeps far-away coordinates in i64 range; only the
            // border value matters there.
            let qx = round_to_i64((px * 32.0).clamp(-1e12, 1e12));
            let qy = round_to_i64((py * 32.0).clamp(-1e12, 1e12));
            let (x0, y0) = (qx >> 5, qy >> 5);
            let (fx, fy) = ((qx & 31) as u32, (qy & 31) as u32);
            let w = [
                (32 - fx) * (32 - fy),
                fx * (32 - fy),
                (32 - fx) * fy,
                fx * fy,
            ];
            let base = row + x * 3;
            if x0 >= 0 && y0 >= 0 && x0 + 1 < iw && y0 + 1 < ih {
                // Fast path, all four neighbours inside.
                let i00 = ((y0 * iw + x0) * 3) as usize;
                let i10 = i00 + 3;
                let i01 = i00 + (iw * 3) as usize;
                let i11 = i01 + 3;
                for ch in 0..3 {
                    let sum = 512
                        + w[0] * raw[i00 + ch] as u32
                        + w[1] * raw[i10 + ch] as u32
                        + w[2] * raw[i01 + ch] as u32
                        + w[3] * raw[i11 + ch] as u32;
                    out[base + ch] = lut[(sum >> 10).min(255) as usize];
                }
                continue;
            }
            let idx = |xx: i64, yy: i64| -> Option<usize> {
                match border {
                    Border::Zero => (xx >= 0 && yy >= 0 && xx < iw && yy < ih)
                        .then(|| ((yy * iw + xx) * 3) as usize),
                    Border::Replicate => Some(((clamp_y(yy) * iw + clamp_x(xx)) * 3) as usize),
                }
            };
            let n = [
                idx(x0, y0),
                idx(x0 + 1, y0),
                idx(x0, y0 + 1),
                idx(x0 + 1, y0 + 1),
            ];
            for ch in 0..3 {
                let mut sum = 512u32;
                for (k, i) in n.iter().enumerate() {
                    if let Some(i) = i {
                        sum += w[k] * raw[i + ch] as u32;
                    }
                }
                out[base + ch] = lut[(sum >> 10).min(255) as usize];
            }
        }
    }
    out
}

/// Rounds half up to an integer without `f64::round`, which on the baseline
/// x86-64 target is a libm call and dominated the crop's run time.
#[inline]
pub(crate) fn round_to_i64(v: f64) -> i64 {
    let t = v + 0.5;
    let i = t as i64;
    if (i as f64) > t { i - 1 } else { i }
}

/// The letterbox MediaPipe's `ImageToTensorCalculator` applies with
/// `keep_aspect_ratio`: the whole image, padded to the tensor's aspect ratio.
/// Returns the crop and the padding (left, top, right, bottom) as fractions of
/// the padded square, which detections must have removed afterwards.
pub fn letterbox(image_size: (u32, u32), out_w: u32, out_h: u32) -> (CropTransform, [f32; 4]) {
    let (iw, ih) = (image_size.0.max(1) as f32, image_size.1.max(1) as f32);
    let tensor_aspect = out_h as f32 / out_w as f32;
    let roi_aspect = ih / iw;
    let (mut w, mut h) = (iw, ih);
    let mut pad = [0f32; 4];
    if tensor_aspect > roi_aspect {
        let v = (1.0 - roi_aspect / tensor_aspect) / 2.0;
        pad[1] = v;
        pad[3] = v;
        h = iw * tensor_aspect;
    } else {
        let hpad = (1.0 - tensor_aspect / roi_aspect) / 2.0;
        pad[0] = hpad;
        pad[2] = hpad;
        w = ih / tensor_aspect;
    }
    (
        CropTransform {
            cx: iw / 2.0,
            cy: ih / 2.0,
            w,
            h,
            rotation: 0.0,
            out_w,
            out_h,
        },
        pad,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crop_transform_round_trips() {
        let t = CropTransform {
            cx: 120.0,
            cy: 80.0,
            w: 200.0,
            h: 150.0,
            rotation: 0.6,
            out_w: 256,
            out_h: 256,
        };
        for &(x, y) in &[(0.0, 0.0), (255.0, 17.0), (128.0, 128.0), (-30.0, 300.0)] {
            let (px, py) = t.to_image(x, y);
            let (bx, by) = t.to_tensor(px, py).unwrap();
            assert!(
                (bx - x).abs() < 1e-3 && (by - y).abs() < 1e-3,
                "{x},{y} -> {bx},{by}"
            );
        }
        // The tensor centre maps to the rectangle centre.
        let (px, py) = t.to_image(128.0, 128.0);
        assert!((px - 120.0).abs() < 1e-4 && (py - 80.0).abs() < 1e-4);
        let degenerate = CropTransform { w: 0.0, ..t };
        assert!(degenerate.to_tensor(1.0, 1.0).is_none());
    }

    #[test]
    fn alignment_roi_upright_person() {
        // Hip centre at (0.5, 0.6), scale point straight above: no rotation,
        // side = 2·distance·1.25.
        let r = alignment_roi((0.5, 0.6), (0.5, 0.2), (100, 100), 90.0, 1.25);
        assert!(r.rotation.abs() < 1e-6);
        assert!((r.width - 1.0).abs() < 1e-5 && (r.height - 1.0).abs() < 1e-5);
        // Scale point to the right: the person lies on their side, the ROI
        // turns by +90° (clockwise on screen would need -90°: the vector
        // points at 0° and must be brought to 90°).
        let r = alignment_roi((0.5, 0.5), (0.7, 0.5), (100, 100), 90.0, 1.0);
        assert!((r.rotation - PI / 2.0).abs() < 1e-5);
        // Non-square image: the ROI stays square in pixels.
        let r = alignment_roi((0.5, 0.5), (0.5, 0.25), (200, 100), 90.0, 1.0);
        assert!((r.width * 200.0 - r.height * 100.0).abs() < 1e-3);
    }

    #[test]
    fn rounding_matches_floor_half_up() {
        for v in [-2.5, -2.4, -0.5, -0.2, 0.0, 0.49, 0.5, 1.5, 7.7, -7.7] {
            assert_eq!(round_to_i64(v), (v + 0.5f64).floor() as i64, "{v}");
        }
    }

    #[test]
    fn normalize_radians_wraps() {
        assert!((normalize_radians(3.0 * PI / 2.0) + PI / 2.0).abs() < 1e-5);
        assert!((normalize_radians(-3.0 * PI / 2.0) - PI / 2.0).abs() < 1e-5);
        assert!((normalize_radians(0.3) - 0.3).abs() < 1e-6);
    }

    #[test]
    fn letterbox_pads_the_short_side() {
        let (t, pad) = letterbox((200, 100), 224, 224);
        assert_eq!((t.w, t.h), (200.0, 200.0));
        assert!((pad[1] - 0.25).abs() < 1e-6 && pad[0] == 0.0);
        let (t, pad) = letterbox((100, 400), 224, 224);
        assert_eq!((t.w, t.h), (400.0, 400.0));
        assert!((pad[0] - 0.375).abs() < 1e-6 && pad[1] == 0.0);
    }

    #[test]
    fn crop_identity_and_borders() {
        let img =
            image::RgbImage::from_fn(4, 4, |x, y| image::Rgb([(x * 60) as u8, (y * 60) as u8, 7]));
        // A crop exactly covering the image at its own resolution reads each
        // pixel: tensor (x, y) ↦ image (x − ½·… ) with centre (2, 2)... so
        // pixel (x, y) samples image (x, y).
        let t = CropTransform {
            cx: 2.0,
            cy: 2.0,
            w: 4.0,
            h: 4.0,
            rotation: 0.0,
            out_w: 4,
            out_h: 4,
        };
        let v = crop_to_tensor(&img, &t, Border::Zero, 0.0, 255.0);
        assert_eq!(v[(4 + 1) * 3], 60.0);
        assert_eq!(v[(4 + 1) * 3 + 1], 60.0);
        // Shifted far outside: zero border gives `lo`, replicate the edge.
        let far = CropTransform { cx: 100.0, ..t };
        let z = crop_to_tensor(&img, &far, Border::Zero, -1.0, 1.0);
        assert!(z.iter().all(|&x| x == -1.0));
        let r = crop_to_tensor(&img, &far, Border::Replicate, 0.0, 255.0);
        assert_eq!(r[0], 180.0);
    }
}
