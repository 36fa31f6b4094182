//! Software rasteriser and the guidance maps drawn with it.
//!
//! One pass fills a G-buffer (depth, triangle id, perspective-correct
//! barycentrics) at the photo's resolution and camera; every map is derived
//! from it. Work is split into horizontal bands of [`BAND`] rows that rayon
//! processes in parallel; each band owns its slice of the buffers, so no
//! locking is needed. Back faces are culled (the body is a closed,
//! outward-wound surface; culling halves the work and removes the insides
//! of the eye sockets that would otherwise show through).

use garmax_core::pose::{OPENPOSE_COLORS, OPENPOSE_LIMBS};
use image::{GrayImage, ImageBuffer, Luma, Rgb, RgbImage};
use rayon::prelude::*;
use serde::Serialize;

use crate::camera::Camera;
use crate::model::{BodyModel, BodyPart};

/// Rows per parallel band.
pub const BAND: usize = 32;

/// Depth, triangle and barycentrics per pixel.
#[derive(Debug, Clone)]
pub struct GBuffer {
    pub width: u32,
    pub height: u32,
    /// Camera-space z in metres; `f32::INFINITY` where nothing was drawn.
    pub depth: Vec<f32>,
    /// Triangle index, `u32::MAX` where nothing was drawn.
    pub tri: Vec<u32>,
    /// Perspective-correct barycentric weights of the triangle's corners.
    pub bary: Vec<[f32; 3]>,
}

impl GBuffer {
    pub fn covered(&self, i: usize) -> bool {
        self.tri[i] != u32::MAX
    }

    /// The body silhouette (255 inside).
    pub fn silhouette(&self) -> GrayImage {
        GrayImage::from_fn(self.width, self.height, |x, y| {
            Luma([if self.covered((y * self.width + x) as usize) {
                255
            } else {
                0
            }])
        })
    }
}

struct ScreenTri {
    p: [[f32; 2]; 3],
    inv_z: [f32; 3],
    ymin: i32,
    ymax: i32,
    id: u32,
}

/// Rasterises camera-space vertices with a pinhole camera.
pub fn rasterize(
    vertices: &[[f32; 3]],
    faces: &[[u32; 3]],
    cam: &Camera,
    cull_back: bool,
) -> GBuffer {
    let (w, h) = (cam.width as usize, cam.height as usize);
    let f = cam.focal as f32;
    let (cx, cy) = (cam.cx as f32, cam.cy as f32);
    let mut tris = Vec::with_capacity(faces.len());
    for (id, face) in faces.iter().enumerate() {
        let Some(v) = face
            .iter()
            .map(|&i| vertices.get(i as usize).copied())
            .collect::<Option<Vec<_>>>()
        else {
            continue;
        };
        // Near plane: triangles touching it are dropped rather than clipped;
        // a fitted body is metres away, so this only guards bad inputs.
        if v.iter()
            .any(|p| !p.iter().all(|c| c.is_finite()) || p[2] <= 0.01)
        {
            continue;
        }
        if cull_back {
            let e1 = [v[1][0] - v[0][0], v[1][1] - v[0][1], v[1][2] - v[0][2]];
            let e2 = [v[2][0] - v[0][0], v[2][1] - v[0][1], v[2][2] - v[0][2]];
            let n = [
                e1[1] * e2[2] - e1[2] * e2[1],
                e1[2] * e2[0] - e1[0] * e2[2],
                e1[0] * e2[1] - e1[1] * e2[0],
            ];
            // Front-facing when the outward normal points back at the eye.
            if n[0] * v[0][0] + n[1] * v[0][1] + n[2] * v[0][2] >= 0.0 {
                continue;
            }
        }
        let p = [0, 1, 2].map(|k| [f * v[k][0] / v[k][2] + cx, f * v[k][1] / v[k][2] + cy]);
        let ymin = p.iter().map(|q| q[1]).fold(f32::MAX, f32::min).floor() as i32;
        let ymax = p.iter().map(|q| q[1]).fold(f32::MIN, f32::max).ceil() as i32;
        let xmin = p.iter().map(|q| q[0]).fold(f32::MAX, f32::min);
        let xmax = p.iter().map(|q| q[0]).fold(f32::MIN, f32::max);
        if ymax < 0 || ymin >= h as i32 || xmax < 0.0 || xmin >= w as f32 {
            continue;
        }
        tris.push(ScreenTri {
            p,
            inv_z: [1.0 / v[0][2], 1.0 / v[1][2], 1.0 / v[2][2]],
            ymin,
            ymax,
            id: id as u32,
        });
    }
    // Bin triangles into bands.
    let nbands = h.div_ceil(BAND);
    let mut bins: Vec<Vec<u32>> = vec![Vec::new(); nbands];
    for (k, t) in tris.iter().enumerate() {
        let b0 = (t.ymin.max(0) as usize) / BAND;
        let b1 = ((t.ymax.max(0) as usize) / BAND).min(nbands - 1);
        for bin in &mut bins[b0..=b1] {
            bin.push(k as u32);
        }
    }
    let mut depth = vec![f32::INFINITY; w * h];
    let mut tri = vec![u32::MAX; w * h];
    let mut bary = vec![[0.0f32; 3]; w * h];
    depth
        .par_chunks_mut(w * BAND)
        .zip(tri.par_chunks_mut(w * BAND))
        .zip(bary.par_chunks_mut(w * BAND))
        .enumerate()
        .for_each(|(band, ((dep, tid), bar))| {
            let y0 = band * BAND;
            let rows = dep.len() / w;
            for &k in &bins[band] {
                let t = &tris[k as usize];
                raster_tri(t, w, y0, rows, dep, tid, bar);
            }
        });
    GBuffer {
        width: cam.width,
        height: cam.height,
        depth,
        tri,
        bary,
    }
}

fn raster_tri(
    t: &ScreenTri,
    w: usize,
    y0: usize,
    rows: usize,
    dep: &mut [f32],
    tid: &mut [u32],
    bar: &mut [[f32; 3]],
) {
    let [a, b, c] = t.p;
    let area = (b[0] - a[0]) * (c[1] - a[1]) - (b[1] - a[1]) * (c[0] - a[0]);
    if area.abs() < 1e-12 {
        return;
    }
    let inv_area = 1.0 / area;
    let ys = (t.ymin.max(y0 as i32)) as usize;
    let ye = (t.ymax.min((y0 + rows) as i32 - 1)).max(-1);
    if ye < ys as i32 {
        return;
    }
    let xmin = a[0].min(b[0]).min(c[0]).floor().max(0.0) as usize;
    let xmax = (a[0].max(b[0]).max(c[0]).ceil() as i64).min(w as i64 - 1);
    if xmax < xmin as i64 {
        return;
    }
    for y in ys..=ye as usize {
        let py = y as f32 + 0.5;
        for x in xmin..=xmax as usize {
            let px = x as f32 + 0.5;
            let w0 = ((b[0] - px) * (c[1] - py) - (b[1] - py) * (c[0] - px)) * inv_area;
            let w1 = ((c[0] - px) * (a[1] - py) - (c[1] - py) * (a[0] - px)) * inv_area;
            let w2 = 1.0 - w0 - w1;
            if w0 < 0.0 || w1 < 0.0 || w2 < 0.0 {
                continue;
            }
            let iz = w0 * t.inv_z[0] + w1 * t.inv_z[1] + w2 * t.inv_z[2];
            let z = 1.0 / iz;
            let i = (y - y0) * w + x;
            if z < dep[i] {
                dep[i] = z;
                tid[i] = t.id;
                bar[i] = [
                    w0 * t.inv_z[0] * z,
                    w1 * t.inv_z[1] * z,
                    w2 * t.inv_z[2] * z,
                ];
            }
        }
    }
}

/// Metric range of the depth map: 65535 is `near_m`, 1 is `far_m`, 0 is
/// background.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct DepthRange {
    pub near_m: f32,
    pub far_m: f32,
}

/// 16-bit depth, near = bright (the ControlNet depth convention), scaled to
/// the visible body's own depth range so the full precision is used.
pub fn depth_map(g: &GBuffer) -> (ImageBuffer<Luma<u16>, Vec<u16>>, DepthRange) {
    let (mut near, mut far) = (f32::MAX, f32::MIN);
    for (i, &z) in g.depth.iter().enumerate() {
        if g.covered(i) {
            near = near.min(z);
            far = far.max(z);
        }
    }
    if near > far {
        return (
            ImageBuffer::new(g.width, g.height),
            DepthRange {
                near_m: 0.0,
                far_m: 0.0,
            },
        );
    }
    // A millimetre floor keeps a flat surface bright instead of amplifying
    // float noise across the whole 16-bit range.
    let span = (far - near).max(1e-3);
    let img = ImageBuffer::from_fn(g.width, g.height, |x, y| {
        let i = (y * g.width + x) as usize;
        if !g.covered(i) {
            return Luma([0u16]);
        }
        let below_max = ((g.depth[i] - near) / span * 65534.0)
            .round()
            .clamp(0.0, 65534.0) as u16;
        Luma([65535 - below_max])
    });
    (
        img,
        DepthRange {
            near_m: near,
            far_m: far,
        },
    )
}

/// Camera-space normals encoded as ControlNet normal maps are: R = x right,
/// G = y up, B = towards the viewer, each `(n + 1) / 2`; background black.
pub fn normal_map(g: &GBuffer, faces: &[[u32; 3]], normals: &[[f32; 3]]) -> RgbImage {
    let mut img = RgbImage::new(g.width, g.height);
    img.par_chunks_mut(3 * g.width as usize)
        .enumerate()
        .for_each(|(y, row)| {
            for x in 0..g.width as usize {
                let i = y * g.width as usize + x;
                if !g.covered(i) {
                    continue;
                }
                // Buffers from another mesh must not panic: skip/zero instead.
                let Some(f) = faces.get(g.tri[i] as usize) else {
                    continue;
                };
                let b = g.bary[i];
                let mut n = [0.0f32; 3];
                for k in 0..3 {
                    let vn = normals.get(f[k] as usize).copied().unwrap_or([0.0; 3]);
                    for c in 0..3 {
                        n[c] += b[k] * vn[c];
                    }
                }
                let l = (n[0] * n[0] + n[1] * n[1] + n[2] * n[2]).sqrt().max(1e-12);
                // Camera axes are x right, y down, z forward: flip y and z.
                let enc = [n[0] / l, -n[1] / l, -n[2] / l];
                for c in 0..3 {
                    row[3 * x + c] = ((enc[c] + 1.0) * 0.5 * 255.0).round().clamp(0.0, 255.0) as u8;
                }
            }
        });
    img
}

/// The part of each covered pixel (the corner with the largest weight
/// decides, so parts keep crisp borders).
pub fn part_labels(g: &GBuffer, model: &BodyModel) -> Vec<Option<BodyPart>> {
    let faces = model.faces();
    let parts = model.vertex_parts();
    (0..g.tri.len())
        .map(|i| {
            if !g.covered(i) {
                return None;
            }
            let f = faces.get(g.tri[i] as usize)?;
            let b = g.bary[i];
            let k = if b[0] >= b[1] && b[0] >= b[2] {
                0
            } else if b[1] >= b[2] {
                1
            } else {
                2
            };
            parts.get(f[k] as usize).copied()
        })
        .collect()
}

/// One legend entry of a label image.
#[derive(Debug, Clone, Serialize)]
pub struct LegendEntry {
    pub label: u8,
    pub name: &'static str,
    pub color: [u8; 3],
}

/// The legend of `parts.png`.
pub fn parts_legend() -> Vec<LegendEntry> {
    let mut v = vec![LegendEntry {
        label: 0,
        name: "background",
        color: [0, 0, 0],
    }];
    v.extend(BodyPart::ALL.iter().map(|p| LegendEntry {
        label: p.label(),
        name: p.name(),
        color: p.color(),
    }));
    v
}

/// Body-part segmentation with the fixed colours of [`BodyPart::color`].
pub fn parts_map(labels: &[Option<BodyPart>], width: u32, height: u32) -> RgbImage {
    RgbImage::from_fn(width, height, |x, y| {
        Rgb(labels
            .get((y * width + x) as usize)
            .copied()
            .flatten()
            .map_or([0, 0, 0], |p| p.color()))
    })
}

/// Classes of the clothing-aware segmentation the try-on renderer uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SegmentClass {
    Background,
    /// Where an upper garment goes: the torso.
    UpperGarment,
    Arms,
    Hands,
    FaceHair,
    /// Pelvis, legs and feet (lower garments, shoes).
    LowerBody,
}

impl SegmentClass {
    pub const ALL: [SegmentClass; 6] = [
        SegmentClass::Background,
        SegmentClass::UpperGarment,
        SegmentClass::Arms,
        SegmentClass::Hands,
        SegmentClass::FaceHair,
        SegmentClass::LowerBody,
    ];
    pub fn label(self) -> u8 {
        SegmentClass::ALL
            .iter()
            .position(|&c| c == self)
            .unwrap_or(0) as u8
    }
    pub fn color(self) -> [u8; 3] {
        match self {
            SegmentClass::Background => [0, 0, 0],
            SegmentClass::UpperGarment => [255, 0, 0],
            SegmentClass::Arms => [0, 255, 0],
            SegmentClass::Hands => [0, 0, 255],
            SegmentClass::FaceHair => [255, 255, 0],
            SegmentClass::LowerBody => [255, 0, 255],
        }
    }
    pub fn name(self) -> &'static str {
        match self {
            SegmentClass::Background => "background",
            SegmentClass::UpperGarment => "upper_garment",
            SegmentClass::Arms => "arms",
            SegmentClass::Hands => "hands",
            SegmentClass::FaceHair => "face_hair",
            SegmentClass::LowerBody => "lower_body",
        }
    }
    pub fn of_part(p: BodyPart) -> SegmentClass {
        match p {
            BodyPart::Head | BodyPart::Neck => SegmentClass::FaceHair,
            BodyPart::Torso => SegmentClass::UpperGarment,
            BodyPart::LeftUpperArm
            | BodyPart::RightUpperArm
            | BodyPart::LeftForearm
            | BodyPart::RightForearm => SegmentClass::Arms,
            BodyPart::LeftHand | BodyPart::RightHand => SegmentClass::Hands,
            _ => SegmentClass::LowerBody,
        }
    }
}

/// Legend of `segment.png`.
pub fn segment_legend() -> Vec<LegendEntry> {
    SegmentClass::ALL
        .iter()
        .map(|c| LegendEntry {
            label: c.label(),
            name: c.name(),
            color: c.color(),
        })
        .collect()
}

/// Clothing-aware segmentation: the person mask decides what is person
/// (clothes and hair extend beyond the naked body), the body parts decide
/// which class. Mask pixels the body does not cover take the class of the
/// nearest covered mask pixel (breadth-first, inside the mask only, so
/// a loose sleeve takes "arms" and hair above the head "face/hair").
/// Body pixels outside the mask are background.
pub fn segment_classes(labels: &[Option<BodyPart>], mask: &GrayImage) -> Vec<SegmentClass> {
    let (w, h) = (mask.width() as usize, mask.height() as usize);
    let inside = |i: usize| mask.as_raw()[i] >= 128;
    let mut out = vec![SegmentClass::Background; w * h];
    let mut done = vec![false; w * h];
    let mut queue = std::collections::VecDeque::new();
    for i in 0..w * h {
        if inside(i)
            && let Some(p) = labels.get(i).copied().flatten()
        {
            out[i] = SegmentClass::of_part(p);
            done[i] = true;
            queue.push_back(i);
        }
    }
    while let Some(i) = queue.pop_front() {
        let (x, y) = (i % w, i / w);
        let mut visit = |j: usize| {
            if !done[j] && inside(j) {
                done[j] = true;
                out[j] = out[i];
                queue.push_back(j);
            }
        };
        if x > 0 {
            visit(i - 1);
        }
        if x + 1 < w {
            visit(i + 1);
        }
        if y > 0 {
            visit(i - w);
        }
        if y + 1 < h {
            visit(i + w);
        }
    }
    out
}

pub fn segment_map(classes: &[SegmentClass], width: u32, height: u32) -> RgbImage {
    RgbImage::from_fn(width, height, |x, y| {
        Rgb(classes
            .get((y * width + x) as usize)
            .map_or([0, 0, 0], |c| c.color()))
    })
}

/// COCO-18 points from the 33 BlazePose-corresponding model keypoints
/// (neck = shoulder midpoint, as OpenPose defines it).
pub fn coco18_from_blazepose(kp: &[[f64; 2]; 33]) -> [[f64; 2]; 18] {
    let mid = |a: usize, b: usize| [(kp[a][0] + kp[b][0]) / 2.0, (kp[a][1] + kp[b][1]) / 2.0];
    [
        kp[0],
        mid(11, 12),
        kp[12],
        kp[14],
        kp[16],
        kp[11],
        kp[13],
        kp[15],
        kp[24],
        kp[26],
        kp[28],
        kp[23],
        kp[25],
        kp[27],
        kp[5],
        kp[2],
        kp[8],
        kp[7],
    ]
}

/// Draws the OpenPose skeleton on black as ControlNet's annotator does:
/// limbs at 60 % of their colour, keypoints as full-colour discs. Sizes
/// scale with the image (ControlNet's 4 px at 512 px).
pub fn openpose_map(points: &[[f64; 2]; 18], width: u32, height: u32) -> RgbImage {
    let mut img = RgbImage::new(width, height);
    let scale = width.max(height) as f64 / 512.0;
    let stick = (4.0 * scale).max(1.5);
    for (k, [a, b]) in OPENPOSE_LIMBS.iter().enumerate() {
        let c = OPENPOSE_COLORS[k].map(|v| (v as f64 * 0.6) as u8);
        draw_capsule(&mut img, points[*a], points[*b], stick, c, 1.0);
    }
    for (k, p) in points.iter().enumerate() {
        draw_capsule(&mut img, *p, *p, stick, OPENPOSE_COLORS[k], 1.0);
    }
    img
}

/// Fills every pixel within `r` of segment ab (alpha-blended).
pub(crate) fn draw_capsule(
    img: &mut RgbImage,
    a: [f64; 2],
    b: [f64; 2],
    r: f64,
    color: [u8; 3],
    alpha: f64,
) {
    if !a.iter().chain(&b).all(|v| v.is_finite()) {
        return;
    }
    let (w, h) = (img.width() as i64, img.height() as i64);
    let x0 = (a[0].min(b[0]) - r).floor().max(0.0) as i64;
    let x1 = ((a[0].max(b[0]) + r).ceil() as i64).min(w - 1);
    let y0 = (a[1].min(b[1]) - r).floor().max(0.0) as i64;
    let y1 = ((a[1].max(b[1]) + r).ceil() as i64).min(h - 1);
    let d = [b[0] - a[0], b[1] - a[1]];
    let len2 = d[0] * d[0] + d[1] * d[1];
    for y in y0..=y1 {
        for x in x0..=x1 {
            let p = [x as f64 + 0.5 - a[0], y as f64 + 0.5 - a[1]];
            let t = if len2 > 0.0 {
                ((p[0] * d[0] + p[1] * d[1]) / len2).clamp(0.0, 1.0)
            } else {
                0.0
            };
            let q = [p[0] - t * d[0], p[1] - t * d[1]];
            if q[0] * q[0] + q[1] * q[1] <= r * r {
                let px = img.get_pixel_mut(x as u32, y as u32);
                for (dst, src) in px.0.iter_mut().zip(color) {
                    *dst = (*dst as f64 * (1.0 - alpha) + src as f64 * alpha).round() as u8;
                }
            }
        }
    }
}

/// The photo with the visible triangles' edges drawn over it.
pub fn wireframe_overlay(
    photo: &RgbImage,
    g: &GBuffer,
    projected: &[[f64; 2]],
    faces: &[[u32; 3]],
) -> RgbImage {
    let mut img = photo.clone();
    let mut visible = vec![false; faces.len()];
    for &t in &g.tri {
        if let Some(v) = visible.get_mut(t as usize) {
            *v = true;
        }
    }
    let r = (photo.width().max(photo.height()) as f64 / 1024.0).max(0.5);
    for (f, _) in faces.iter().zip(&visible).filter(|(_, v)| **v) {
        for k in 0..3 {
            let (Some(&a), Some(&b)) = (
                projected.get(f[k] as usize),
                projected.get(f[(k + 1) % 3] as usize),
            ) else {
                continue;
            };
            draw_capsule(&mut img, a, b, r, [0, 255, 128], 0.45);
        }
    }
    img
}

/// Intersection over union of two masks (pixels ≥ 128 count as inside).
pub fn iou(a: &GrayImage, b: &GrayImage) -> f64 {
    let (mut inter, mut uni) = (0u64, 0u64);
    for (x, y) in a.as_raw().iter().zip(b.as_raw()) {
        let (p, q) = (*x >= 128, *y >= 128);
        inter += (p && q) as u64;
        uni += (p || q) as u64;
    }
    if uni == 0 {
        1.0
    } else {
        inter as f64 / uni as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn quad() -> (Vec<[f32; 3]>, Vec<[u32; 3]>) {
        // A square at z = 2 facing the camera (counter-clockwise seen from
        // the camera in a y-up view = clockwise in image space).
        let v = vec![
            [-0.5, -0.5, 2.0],
            [0.5, -0.5, 2.0],
            [0.5, 0.5, 2.0],
            [-0.5, 0.5, 2.0],
        ];
        (v, vec![[0, 2, 1], [0, 3, 2]])
    }

    #[test]
    fn square_covers_expected_area_and_culls_back() {
        let (v, f) = quad();
        let cam = Camera {
            focal: 100.0,
            cx: 50.0,
            cy: 50.0,
            width: 100,
            height: 100,
        };
        let g = rasterize(&v, &f, &cam, true);
        let n = g.tri.iter().filter(|&&t| t != u32::MAX).count();
        assert!((n as i64 - 2500).abs() <= 110, "covered {n}");
        assert!(
            g.depth
                .iter()
                .filter(|d| d.is_finite())
                .all(|d| (d - 2.0).abs() < 1e-4)
        );
        let flipped: Vec<[u32; 3]> = f.iter().map(|t| [t[0], t[2], t[1]]).collect();
        let g2 = rasterize(&v, &flipped, &cam, true);
        assert!(g2.tri.iter().all(|&t| t == u32::MAX));
        let (d, range) = depth_map(&g);
        assert!((range.near_m - 2.0).abs() < 1e-4);
        assert!(d.get_pixel(50, 50).0[0] > 65000);
        assert_eq!(d.get_pixel(0, 0).0[0], 0);
    }

    #[test]
    fn nearer_surface_wins() {
        let mut v = vec![[-0.5, -0.5, 3.0], [0.5, -0.5, 3.0], [0.0, 0.5, 3.0]];
        v.extend([[-0.5, -0.5, 2.0], [0.5, -0.5, 2.0], [0.0, 0.5, 2.0]]);
        let f = vec![[0, 2, 1], [3, 5, 4]];
        let cam = Camera {
            focal: 100.0,
            cx: 50.0,
            cy: 50.0,
            width: 100,
            height: 100,
        };
        let g = rasterize(&v, &f, &cam, false);
        assert_eq!(g.tri[50 * 100 + 50], 1);
    }

    #[test]
    fn segmentation_propagates_inside_mask() {
        let mask = GrayImage::from_fn(10, 1, |x, _| Luma([if x < 8 { 255 } else { 0 }]));
        let mut labels = vec![None; 10];
        labels[0] = Some(BodyPart::Torso);
        labels[9] = Some(BodyPart::Head);
        let s = segment_classes(&labels, &mask);
        assert_eq!(s[7], SegmentClass::UpperGarment);
        assert_eq!(s[9], SegmentClass::Background);
    }

    #[test]
    fn iou_basics() {
        let a = GrayImage::from_fn(4, 1, |x, _| Luma([if x < 2 { 255 } else { 0 }]));
        let b = GrayImage::from_fn(4, 1, |x, _| Luma([if x < 3 { 255 } else { 0 }]));
        assert!((iou(&a, &b) - 2.0 / 3.0).abs() < 1e-9);
    }
}
