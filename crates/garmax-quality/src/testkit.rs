//! Deterministic test material for the validators: good composites of a
//! product garment on a person photo, the damaged variants each validator
//! must catch, ROC AUC, and a simulated renderer whose knobs change the
//! image (for retry tests until the local renderer is merged in).
//!
//! Nothing here reads files: callers load the packaged photos (scikit-image
//! astronaut, face-api samples, Saleor tees) and hand the pixels in. The
//! landmark tables below were annotated by hand on those exact photos.
//!
//! A composite is made the way a simple try-on would: the product's
//! shoulder landmarks are mapped onto the person's shoulders by a similarity
//! transform, the garment is resampled through it, the person's own
//! lighting (blurred luminance of the clothing underneath) is multiplied in,
//! and the edge is blended by the product mask's coverage.

use garmax_core::pose::{BLAZEPOSE_COUNT, Landmark, PoseLandmarks, joint};
use garmax_vision::GarmentAnalysis;
use garmax_vision::color::{Lab, delta_e2000, lab_to_srgb, srgb_to_lab};
use garmax_vision::mask::{Mask, ON};
use garmax_vision::rng::SplitMix64;
use image::{GrayImage, Luma, Rgba, RgbaImage};

pub mod warped;

use crate::config::{Metric, Parameters};
use crate::imgops::{Gray, Similarity};
use crate::validator::{FacePoints, ProductInput, ValidationInput};

/// Asset name of the person photo the composites use.
pub const PERSON_ASSET: &str = "skimage/data/astronaut.png";

/// Saleor demo tees (transparent cut-outs, 1024²).
pub const TEE_ASSETS: [&str; 4] = [
    "saleor/static/placeholders/saleordemoproduct_cl_boot01_1.png",
    "saleor/static/placeholders/saleordemoproduct_cl_boot03_1.png",
    "saleor/static/placeholders/saleordemoproduct_cl_boot06_1.png",
    "saleor/static/placeholders/saleordemoproduct_cl_boot07_1.png",
];

/// Faces of other people, with their five points (eye image-left, eye
/// image-right, nose tip, mouth corner left, mouth corner right), annotated
/// by hand on the face-api demo photos.
pub const FACE_DONORS: [(&str, [[f32; 2]; 5]); 4] = [
    (
        "face-api/package/demo/sample1.jpg",
        [
            [442.0, 455.0],
            [517.0, 457.0],
            [465.0, 505.0],
            [448.0, 545.0],
            [518.0, 550.0],
        ],
    ),
    (
        "face-api/package/demo/sample1.jpg",
        [
            [870.0, 550.0],
            [948.0, 518.0],
            [920.0, 580.0],
            [915.0, 615.0],
            [980.0, 588.0],
        ],
    ),
    (
        "face-api/package/demo/sample1.jpg",
        [
            [1557.0, 277.0],
            [1618.0, 337.0],
            [1554.0, 340.0],
            [1503.0, 344.0],
            [1551.0, 392.0],
        ],
    ),
    (
        "face-api/package/demo/sample2.jpg",
        [
            [1475.0, 280.0],
            [1570.0, 250.0],
            [1535.0, 310.0],
            [1528.0, 350.0],
            [1585.0, 335.0],
        ],
    ),
];

/// The astronaut's five face points (512² photo).
pub fn astronaut_face() -> FacePoints {
    FacePoints::five([
        [202.5, 100.0],
        [247.5, 103.5],
        [224.0, 127.5],
        [207.5, 142.5],
        [242.5, 142.5],
    ])
}

fn pose_from(points: [([f32; 2], f32); BLAZEPOSE_COUNT], size: [u32; 2]) -> PoseLandmarks {
    PoseLandmarks {
        image_size: size,
        image: points
            .iter()
            .map(|&(p, v)| Landmark {
                x: p[0],
                y: p[1],
                z: 0.0,
                visibility: v,
                presence: v,
            })
            .collect(),
        world: vec![[0.0; 3]; BLAZEPOSE_COUNT],
    }
}

/// MediaPipe's relative depth `z` (pixels, smaller = nearer) of the
/// astronaut's 33 landmarks, from its static result on the same photo
/// (`crates/garmax-render/tests/fixtures/astronaut.json`), rounded: the
/// right shoulder and ear are nearer the camera, which is what tells the
/// body from its mirror image.
const ASTRONAUT_DEPTH: [f32; BLAZEPOSE_COUNT] = [
    -425.0, -399.0, -399.0, -399.0, -406.0, -406.0, -407.0, -223.0, -252.0, -356.0, -365.0, -85.0,
    -181.0, -27.0, -240.0, -196.0, -469.0, -244.0, -526.0, -277.0, -549.0, -215.0, -482.0, 16.0,
    -15.0, 38.0, 55.0, 348.0, 292.0, 366.0, 308.0, 155.0, 83.0,
];

/// The astronaut's BlazePose landmarks (512² photo). Points outside the
/// frame (hips, legs) or behind the helmet carry a low visibility, as
/// BlazePose reports them.
pub fn astronaut_pose() -> PoseLandmarks {
    let mut pose = astronaut_pose_2d();
    for (l, z) in pose.image.iter_mut().zip(ASTRONAUT_DEPTH) {
        l.z = z;
    }
    pose
}

fn astronaut_pose_2d() -> PoseLandmarks {
    pose_from(
        [
            ([224.0, 127.0], 0.99), // nose
            ([240.0, 103.0], 0.99),
            ([247.5, 103.5], 0.99),
            ([256.0, 104.0], 0.99),
            ([210.0, 100.0], 0.99),
            ([202.5, 100.0], 0.99),
            ([193.0, 100.0], 0.99),
            ([282.0, 115.0], 0.95), // left ear
            ([170.0, 112.0], 0.95),
            ([242.5, 142.5], 0.99), // mouth left
            ([207.5, 142.5], 0.99),
            ([338.0, 285.0], 0.99), // left shoulder
            ([85.0, 290.0], 0.99),
            ([360.0, 430.0], 0.3), // left elbow, behind the helmet
            ([45.0, 445.0], 0.85),
            ([300.0, 470.0], 0.2), // left wrist
            ([150.0, 497.0], 0.8),
            ([295.0, 480.0], 0.2),
            ([158.0, 507.0], 0.7),
            ([290.0, 482.0], 0.2),
            ([160.0, 505.0], 0.7),
            ([292.0, 472.0], 0.2),
            ([150.0, 490.0], 0.7),
            ([300.0, 610.0], 0.1), // hips, below the frame
            ([110.0, 610.0], 0.1),
            ([300.0, 800.0], 0.02),
            ([110.0, 800.0], 0.02),
            ([300.0, 980.0], 0.01),
            ([110.0, 980.0], 0.01),
            ([300.0, 1000.0], 0.01),
            ([110.0, 1000.0], 0.01),
            ([300.0, 1010.0], 0.01),
            ([110.0, 1010.0], 0.01),
        ],
        [512, 512],
    )
}

/// The cameraman's landmarks (scikit-image `camera.png`, 512²): another
/// person in another pose, leaning to a tripod.
pub fn cameraman_pose() -> PoseLandmarks {
    pose_from(
        [
            ([250.0, 165.0], 0.95),
            ([236.0, 151.0], 0.9),
            ([240.0, 152.0], 0.9),
            ([244.0, 152.0], 0.9),
            ([226.0, 150.0], 0.6),
            ([228.0, 150.0], 0.6),
            ([224.0, 150.0], 0.6),
            ([190.0, 140.0], 0.9),
            ([200.0, 140.0], 0.4),
            ([240.0, 185.0], 0.9),
            ([232.0, 185.0], 0.9),
            ([170.0, 160.0], 0.9),
            ([80.0, 190.0], 0.9),
            ([270.0, 250.0], 0.8),
            ([200.0, 250.0], 0.85),
            ([300.0, 200.0], 0.8),
            ([230.0, 210.0], 0.85),
            ([305.0, 195.0], 0.7),
            ([236.0, 205.0], 0.7),
            ([308.0, 190.0], 0.7),
            ([238.0, 200.0], 0.7),
            ([298.0, 195.0], 0.7),
            ([228.0, 205.0], 0.7),
            ([110.0, 400.0], 0.7),
            ([60.0, 390.0], 0.7),
            ([120.0, 500.0], 0.3),
            ([70.0, 500.0], 0.3),
            ([120.0, 600.0], 0.02),
            ([70.0, 600.0], 0.02),
            ([120.0, 620.0], 0.01),
            ([70.0, 620.0], 0.01),
            ([130.0, 630.0], 0.01),
            ([80.0, 630.0], 0.01),
        ],
        [512, 512],
    )
}

/// A product: the photo, its analysis and garment mask.
pub struct Product {
    pub name: String,
    pub image: RgbaImage,
    pub mask: Mask,
    pub analysis: GarmentAnalysis,
}

impl Product {
    /// A copy whose photo has branding region `index` painted over with the
    /// fabric colour (the analysis is kept: it describes the real product).
    /// Composited, it is a render that lost the logo.
    pub fn without_logo(&self, index: usize) -> Product {
        self.with_logo_moved(index, 0, 0, false)
    }

    /// A copy whose branding region `index` is moved by `(dx, dy)` photo
    /// pixels (`keep` = false paints it out instead).
    pub fn with_logo_moved(&self, index: usize, dx: i64, dy: i64, keep: bool) -> Product {
        let mut image = self.image.clone();
        if let Some(r) = self.analysis.branding.regions.get(index) {
            let d = &self.analysis.colors.dominant;
            let [x0, y0, bw, bh] = r.bbox;
            let (w, h) = image.dimensions();
            let src = self.image.clone();
            for y in y0..(y0 + bh).min(h) {
                for x in x0..(x0 + bw).min(w) {
                    if self.mask.get_pixel(x, y).0[0] == ON {
                        image.put_pixel(x, y, Rgba([d.r, d.g, d.b, 255]));
                    }
                }
            }
            if keep {
                for y in y0..(y0 + bh).min(h) {
                    for x in x0..(x0 + bw).min(w) {
                        let (tx, ty) = (x as i64 + dx, y as i64 + dy);
                        if tx >= 0
                            && ty >= 0
                            && (tx as u32) < w
                            && (ty as u32) < h
                            && self.mask.get_pixel(tx as u32, ty as u32).0[0] == ON
                        {
                            image.put_pixel(tx as u32, ty as u32, *src.get_pixel(x, y));
                        }
                    }
                }
            }
        }
        Product {
            name: self.name.clone(),
            image,
            mask: self.mask.clone(),
            analysis: self.analysis.clone(),
        }
    }

    pub fn input(&self) -> ProductInput<'_> {
        ProductInput {
            analysis: &self.analysis,
            image: &self.image,
            mask: &self.mask,
        }
    }
}

/// Extra placement of the garment relative to the body, for nuisance and
/// for the "warped off the body" damage. Shifts are in shoulder widths.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Placement {
    pub dx: f32,
    pub dy: f32,
    pub rotation_deg: f32,
    pub scale: f32,
}

impl Default for Placement {
    fn default() -> Self {
        Placement {
            dx: 0.0,
            dy: 0.0,
            rotation_deg: 0.0,
            scale: 1.0,
        }
    }
}

/// How a composite looks apart from placement.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Look {
    /// Strength of the person's lighting on the garment (exponent).
    pub shading: f32,
    /// Lab offset added to every garment pixel (a dye error).
    pub lab_offset: [f32; 3],
}

impl Default for Look {
    fn default() -> Self {
        Look {
            shading: 0.5,
            lab_offset: [0.0; 3],
        }
    }
}

/// A composite and what the "renderer" knows about it.
#[derive(Debug, Clone)]
pub struct Composite {
    pub image: RgbaImage,
    pub garment_mask: Mask,
    /// The product's branding regions mapped into the composite.
    pub logo_boxes: Vec<Option<[f32; 4]>>,
    pub shoulder_width: f32,
}

fn shoulders(pose: &PoseLandmarks, frame: [u32; 2]) -> ([f32; 2], [f32; 2]) {
    let sx = frame[0] as f32 / pose.image_size[0].max(1) as f32;
    let sy = frame[1] as f32 / pose.image_size[1].max(1) as f32;
    let p = |i: usize| [pose.image[i].x * sx, pose.image[i].y * sy];
    // Image-left is the subject's right for a person facing the camera.
    (p(joint::RIGHT_SHOULDER), p(joint::LEFT_SHOULDER))
}

/// Puts `product` on `person` (whose landmarks are `pose`).
pub fn composite(
    person: &RgbaImage,
    pose: &PoseLandmarks,
    product: &Product,
    placement: Placement,
    look: Look,
) -> Composite {
    let (w, h) = person.dimensions();
    let (bl, br) = shoulders(pose, [w, h]);
    let sw = (bl[0] - br[0]).hypot(bl[1] - br[1]).max(1.0);
    let lm = &product.analysis.landmarks;
    let (pl, pr) = match (lm.get("shoulder_left"), lm.get("shoulder_right")) {
        (Some(l), Some(r)) => (*l, *r),
        _ => {
            let bb = garmax_vision::mask::bounding_box(&product.mask).unwrap_or([0, 0, 1, 1]);
            ([bb[0] as f32, bb[1] as f32], [bb[2] as f32, bb[1] as f32])
        }
    };
    // The garment's side seams sit a little outside the shoulder joints.
    let mid = [(bl[0] + br[0]) / 2.0, (bl[1] + br[1]) / 2.0];
    let ease = 1.12;
    let tl = [
        mid[0] + (bl[0] - mid[0]) * ease,
        mid[1] + (bl[1] - mid[1]) * ease - 0.08 * sw,
    ];
    let tr = [
        mid[0] + (br[0] - mid[0]) * ease,
        mid[1] + (br[1] - mid[1]) * ease - 0.08 * sw,
    ];
    // Extra placement about the torso centre.
    let centre = [mid[0], mid[1] + 0.6 * sw];
    let (sin, cos) = placement.rotation_deg.to_radians().sin_cos();
    let move_pt = |p: [f32; 2]| {
        let (x, y) = (
            (p[0] - centre[0]) * placement.scale,
            (p[1] - centre[1]) * placement.scale,
        );
        [
            centre[0] + cos * x - sin * y + placement.dx * sw,
            centre[1] + sin * x + cos * y + placement.dy * sw,
        ]
    };
    let to_person =
        Similarity::fit(&[pl, pr], &[move_pt(tl), move_pt(tr)]).unwrap_or(Similarity::IDENTITY);
    let to_product = to_person.inverse().unwrap_or(Similarity::IDENTITY);
    // Shrink the product to about the target scale first (area filter), so
    // warping does not alias its fine print into false texture.
    let shrink = to_person.scale().clamp(0.05, 1.0);
    let (pw, ph) = product.image.dimensions();
    let (sw_px, sh_px) = (
        ((pw as f32) * shrink).round().max(1.0) as u32,
        ((ph as f32) * shrink).round().max(1.0) as u32,
    );
    let small_img = image::imageops::resize(
        &product.image,
        sw_px,
        sh_px,
        image::imageops::FilterType::Triangle,
    );
    let small_mask = image::imageops::resize(
        &product.mask,
        sw_px,
        sh_px,
        image::imageops::FilterType::Triangle,
    );
    let (kx, ky) = (sw_px as f32 / pw as f32, sh_px as f32 / ph as f32);
    let to_small = |p: [f32; 2]| [(p[0] + 0.5) * kx - 0.5, (p[1] + 0.5) * ky - 0.5];

    let mask_f = Gray {
        width: small_mask.width() as usize,
        height: small_mask.height() as usize,
        data: small_mask
            .pixels()
            .map(|p| f32::from(p.0[0]) / 255.0)
            .collect(),
    };
    let channel = |c: usize| Gray {
        width: small_img.width() as usize,
        height: small_img.height() as usize,
        data: small_img.pixels().map(|p| f32::from(p.0[c])).collect(),
    };
    let (pr_c, pg_c, pb_c) = (channel(0), channel(1), channel(2));
    // The person's lighting: blurred luminance, relative to its median
    // under the garment.
    let lum = Gray::from_rgba(person).box_blur(3).box_blur(3);
    let mut alpha = vec![0.0f32; (w * h) as usize];
    let mut under = Vec::new();
    for y in 0..h {
        for x in 0..w {
            let [sx, sy] = to_small(to_product.apply([x as f32, y as f32]));
            if let Some(a) = mask_f.sample(sx, sy)
                && a > 0.0
            {
                alpha[(y * w + x) as usize] = a;
                if a > 0.5 {
                    under.push(lum.at(x as usize, y as usize));
                }
            }
        }
    }
    let med = garmax_vision::mask::median(&mut under).max(0.05);
    let to_lin = |c: f32| {
        let c = c / 255.0;
        if c <= 0.04045 {
            c / 12.92
        } else {
            ((c + 0.055) / 1.055).powf(2.4)
        }
    };
    let to_srgb = |c: f32| {
        let c = c.clamp(0.0, 1.0);
        255.0
            * if c <= 0.003_130_8 {
                c * 12.92
            } else {
                1.055 * c.powf(1.0 / 2.4) - 0.055
            }
    };
    let shift = look.lab_offset != [0.0; 3];
    let mut image = person.clone();
    let mut garment_mask = GrayImage::new(w, h);
    for y in 0..h {
        for x in 0..w {
            let a = alpha[(y * w + x) as usize];
            if a <= 0.0 {
                continue;
            }
            let [sx, sy] = to_small(to_product.apply([x as f32, y as f32]));
            let mut rgb = [
                pr_c.sample(sx, sy).unwrap_or(0.0),
                pg_c.sample(sx, sy).unwrap_or(0.0),
                pb_c.sample(sx, sy).unwrap_or(0.0),
            ];
            if shift {
                let lab = srgb_to_lab(rgb.map(|c| c.round().clamp(0.0, 255.0) as u8));
                let moved = Lab::new(
                    lab.l + look.lab_offset[0],
                    lab.a + look.lab_offset[1],
                    lab.b + look.lab_offset[2],
                );
                rgb = lab_to_srgb(moved).map(f32::from);
            }
            let s = (lum.at(x as usize, y as usize) / med)
                .clamp(0.5, 1.6)
                .powf(look.shading);
            let out = image.get_pixel_mut(x, y);
            for (o, &v) in out.0.iter_mut().zip(&rgb) {
                let g = to_srgb(to_lin(v) * s);
                *o = (a * g + (1.0 - a) * f32::from(*o))
                    .round()
                    .clamp(0.0, 255.0) as u8;
            }
            if a >= 0.5 {
                garment_mask.put_pixel(x, y, Luma([ON]));
            }
        }
    }
    let logo_boxes = product
        .analysis
        .branding
        .regions
        .iter()
        .map(|r| Some(to_person.apply_box(r.bbox.map(|v| v as f32))))
        .collect();
    Composite {
        image,
        garment_mask,
        logo_boxes,
        shoulder_width: sw,
    }
}

/// A Lab offset in the a*b* plane (direction `angle_deg`) whose CIEDE2000
/// distance from `base` is `target`: a dye error of known size.
pub fn color_offset_for(base: Lab, target: f32, angle_deg: f32) -> [f32; 3] {
    let (s, c) = angle_deg.to_radians().sin_cos();
    let (mut lo, mut hi) = (0.0f32, 200.0f32);
    for _ in 0..50 {
        let m = (lo + hi) / 2.0;
        let d = delta_e2000(base, Lab::new(base.l, base.a + c * m, base.b + s * m));
        if d < target { lo = m } else { hi = m }
    }
    let m = (lo + hi) / 2.0;
    [0.0, c * m, s * m]
}

fn clip_box(b: [f32; 4], w: u32, h: u32) -> Option<[u32; 4]> {
    let x0 = b[0].max(0.0).floor() as u32;
    let y0 = b[1].max(0.0).floor() as u32;
    let x1 = ((b[0] + b[2]).ceil().max(0.0) as u32).min(w);
    let y1 = ((b[1] + b[3]).ceil().max(0.0) as u32).min(h);
    (x1 > x0 + 1 && y1 > y0 + 1).then_some([x0, y0, x1, y1])
}

/// Box-blurs the pixels of `image` inside `bbox` and the garment `mask`.
pub fn blur_region(image: &mut RgbaImage, mask: &Mask, bbox: [f32; 4], radius: u32) {
    let (w, h) = image.dimensions();
    let Some([x0, y0, x1, y1]) = clip_box(bbox, w, h) else {
        return;
    };
    let src = image.clone();
    let r = radius as i64;
    for y in y0..y1 {
        for x in x0..x1 {
            if mask.get_pixel(x, y).0[0] != ON {
                continue;
            }
            let mut acc = [0u32; 3];
            let mut n = 0;
            for dy in -r..=r {
                for dx in -r..=r {
                    let (xx, yy) = (
                        (x as i64 + dx).clamp(0, w as i64 - 1) as u32,
                        (y as i64 + dy).clamp(0, h as i64 - 1) as u32,
                    );
                    let p = src.get_pixel(xx, yy).0;
                    for (a, &v) in acc.iter_mut().zip(&p) {
                        *a += u32::from(v);
                    }
                    n += 1;
                }
            }
            let out = image.get_pixel_mut(x, y);
            for (o, a) in out.0.iter_mut().zip(acc) {
                *o = (a / n) as u8;
            }
        }
    }
}

/// Box-blurs `image` (`passes` times, radius `r`) where `mask` is on.
pub fn blur_where(image: &mut RgbaImage, mask: &Mask, r: u32, passes: usize) {
    let (w, h) = image.dimensions();
    let channels: Vec<Gray> = (0..3)
        .map(|c| {
            let mut g = Gray {
                width: w as usize,
                height: h as usize,
                data: image.pixels().map(|p| f32::from(p.0[c])).collect(),
            };
            for _ in 0..passes {
                g = g.box_blur(r as usize);
            }
            g
        })
        .collect();
    for y in 0..h {
        for x in 0..w {
            if mask.get_pixel(x, y).0[0] == ON {
                let p = image.get_pixel_mut(x, y);
                for (c, g) in channels.iter().enumerate() {
                    p.0[c] = g.at(x as usize, y as usize).round().clamp(0.0, 255.0) as u8;
                }
            }
        }
    }
}

/// Pastes `donor`'s face over the face at `target` (five points), aligned
/// by a similarity and colour-matched to the target's skin, with a feathered
/// oval edge: the kind of face swap a generator produces. Returns the face
/// points of the result (the donor's, mapped: its proportions, not the
/// target's).
pub fn swap_face(
    image: &mut RgbaImage,
    target: &[[f32; 2]; 5],
    donor: &RgbaImage,
    donor_pts: &[[f32; 2]; 5],
) -> FacePoints {
    let Some(to_target) = Similarity::fit(donor_pts, target) else {
        return FacePoints::five(*target);
    };
    let Some(to_donor) = to_target.inverse() else {
        return FacePoints::five(*target);
    };
    let iod = (target[0][0] - target[1][0]).hypot(target[0][1] - target[1][1]);
    let eyes = [
        (target[0][0] + target[1][0]) / 2.0,
        (target[0][1] + target[1][1]) / 2.0,
    ];
    let mouth = [
        (target[3][0] + target[4][0]) / 2.0,
        (target[3][1] + target[4][1]) / 2.0,
    ];
    let centre = [(eyes[0] + mouth[0]) / 2.0, (eyes[1] + mouth[1]) / 2.0];
    let (rx, ry) = (1.05 * iod, 1.35 * iod);
    let (w, h) = image.dimensions();
    let inside = |x: f32, y: f32| ((x - centre[0]) / rx).powi(2) + ((y - centre[1]) / ry).powi(2);
    // Colour statistics of both faces inside the oval, for a mean/std match.
    let mut stats = [[0.0f64; 4]; 3]; // per channel: target sum, sumsq, donor sum, sumsq
    let mut n = 0.0f64;
    let x_range = (
        (centre[0] - rx).max(0.0) as u32,
        ((centre[0] + rx).ceil() as u32).min(w),
    );
    let y_range = (
        (centre[1] - ry).max(0.0) as u32,
        ((centre[1] + ry).ceil() as u32).min(h),
    );
    let donor_px = |x: f32, y: f32| -> Option<[u8; 4]> {
        let [sx, sy] = to_donor.apply([x, y]);
        (sx >= 0.0 && sy >= 0.0 && (sx as u32) < donor.width() && (sy as u32) < donor.height())
            .then(|| donor.get_pixel(sx as u32, sy as u32).0)
    };
    for y in y_range.0..y_range.1 {
        for x in x_range.0..x_range.1 {
            if inside(x as f32, y as f32) <= 0.8
                && let Some(d) = donor_px(x as f32, y as f32)
            {
                let t = image.get_pixel(x, y).0;
                for c in 0..3 {
                    stats[c][0] += f64::from(t[c]);
                    stats[c][1] += f64::from(t[c]).powi(2);
                    stats[c][2] += f64::from(d[c]);
                    stats[c][3] += f64::from(d[c]).powi(2);
                }
                n += 1.0;
            }
        }
    }
    if n < 10.0 {
        return FacePoints::five(*target);
    }
    let xfer: Vec<(f64, f64, f64)> = (0..3)
        .map(|c| {
            let (tm, dm) = (stats[c][0] / n, stats[c][2] / n);
            let ts = (stats[c][1] / n - tm * tm).max(1.0).sqrt();
            let ds = (stats[c][3] / n - dm * dm).max(1.0).sqrt();
            (tm, dm, (ts / ds).clamp(0.5, 2.0))
        })
        .collect();
    for y in y_range.0..y_range.1 {
        for x in x_range.0..x_range.1 {
            let d = inside(x as f32, y as f32);
            if d > 1.0 {
                continue;
            }
            let Some(dp) = donor_px(x as f32, y as f32) else {
                continue;
            };
            let a = if d < 0.75 { 1.0 } else { (1.0 - d) / 0.25 };
            let out = image.get_pixel_mut(x, y);
            for c in 0..3 {
                let (tm, dm, k) = xfer[c];
                let v = tm + (f64::from(dp[c]) - dm) * k;
                out.0[c] = (f64::from(a) * v + (1.0 - f64::from(a)) * f64::from(out.0[c]))
                    .round()
                    .clamp(0.0, 255.0) as u8;
            }
        }
    }
    FacePoints::five(donor_pts.map(|p| to_target.apply(p)))
}

/// Adds detector-like noise: each visible landmark moves by up to
/// `sigma` pixels (deterministic for a seed).
pub fn jitter_pose(pose: &PoseLandmarks, sigma: f32, seed: u64) -> PoseLandmarks {
    let mut rng = SplitMix64::new(seed);
    let mut p = pose.clone();
    for l in &mut p.image {
        l.x += rng.range(-sigma, sigma);
        l.y += rng.range(-sigma, sigma);
    }
    p
}

/// Jitters face points (detector noise).
pub fn jitter_face(face: &FacePoints, sigma: f32, seed: u64) -> FacePoints {
    let mut rng = SplitMix64::new(seed);
    FacePoints {
        layout: face.layout,
        points: face
            .points
            .iter()
            .map(|p| {
                [
                    p[0] + rng.range(-sigma, sigma),
                    p[1] + rng.range(-sigma, sigma),
                ]
            })
            .collect(),
    }
}

/// Rotates one arm (elbow, wrist, hand) about its shoulder.
pub fn rotate_arm(pose: &PoseLandmarks, left: bool, degrees: f32) -> PoseLandmarks {
    let mut p = pose.clone();
    let (sh, rest): (usize, &[usize]) = if left {
        (11, &[13, 15, 17, 19, 21])
    } else {
        (12, &[14, 16, 18, 20, 22])
    };
    let c = [p.image[sh].x, p.image[sh].y];
    let (s, co) = degrees.to_radians().sin_cos();
    for &i in rest {
        let (x, y) = (p.image[i].x - c[0], p.image[i].y - c[1]);
        p.image[i].x = c[0] + co * x - s * y;
        p.image[i].y = c[1] + s * x + co * y;
        p.image[i].visibility = p.image[i].visibility.max(0.8);
    }
    p
}

/// BlazePose's left/right twins (eyes, ears, mouth corners, limbs).
const SIDE_PAIRS: [(usize, usize); 16] = [
    (1, 4),
    (2, 5),
    (3, 6),
    (7, 8),
    (9, 10),
    (11, 12),
    (13, 14),
    (15, 16),
    (17, 18),
    (19, 20),
    (21, 22),
    (23, 24),
    (25, 26),
    (27, 28),
    (29, 30),
    (31, 32),
];

/// Swaps every left landmark with its right twin: the body seen from the
/// back, or mirrored.
pub fn swap_sides(pose: &PoseLandmarks) -> PoseLandmarks {
    let mut p = pose.clone();
    for (a, b) in SIDE_PAIRS {
        let (la, lb) = (p.image[a], p.image[b]);
        p.image[a].x = lb.x;
        p.image[a].y = lb.y;
        p.image[b].x = la.x;
        p.image[b].y = la.y;
    }
    p
}

/// What a detector reports on a render mirrored about the vertical line
/// `x = axis` (the pose's pixels): every point reflected, and left and right
/// named again by appearance, so each landmark takes its twin's place
/// (depth and visibility included).
pub fn mirror_pose(pose: &PoseLandmarks, axis: f32) -> PoseLandmarks {
    let mut p = pose.clone();
    for (a, b) in SIDE_PAIRS {
        p.image.swap(a, b);
        if p.world.len() > a.max(b) {
            p.world.swap(a, b);
        }
    }
    for l in &mut p.image {
        l.x = 2.0 * axis - l.x;
    }
    for w in &mut p.world {
        w[0] = -w[0];
    }
    p
}

/// Re-encodes as JPEG at `quality` and decodes again (in memory): the loss
/// a delivered render goes through.
pub fn jpeg_roundtrip(image: &RgbaImage, quality: u8) -> RgbaImage {
    let rgb = image::DynamicImage::ImageRgba8(image.clone()).to_rgb8();
    let mut bytes = Vec::new();
    let enc = image::codecs::jpeg::JpegEncoder::new_with_quality(&mut bytes, quality);
    if rgb.write_with_encoder(enc).is_err() {
        return image.clone();
    }
    image::load_from_memory(&bytes)
        .map(|d| d.to_rgba8())
        .unwrap_or_else(|_| image.clone())
}

/// Probability that a good sample scores above a damaged one (ties count
/// one half): the area under the ROC curve.
pub fn roc_auc(good: &[f32], bad: &[f32]) -> f32 {
    if good.is_empty() || bad.is_empty() {
        return f32::NAN;
    }
    let mut wins = 0.0f64;
    for &g in good {
        for &b in bad {
            wins += if g > b {
                1.0
            } else if g == b {
                0.5
            } else {
                0.0
            };
        }
    }
    (wins / (good.len() * bad.len()) as f64) as f32
}

/// The kinds of damage of the separation set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
pub enum Damage {
    None,
    ColorShift5,
    ColorShift10,
    ColorShift20,
    OffBody,
    PoseChanged,
    LogoBlurred,
    LogoRemoved,
    LogoMoved,
    FaceSwapped,
    Mirrored,
    RenderBlurred,
}

impl Damage {
    pub const ALL: [Damage; 11] = [
        Damage::ColorShift5,
        Damage::ColorShift10,
        Damage::ColorShift20,
        Damage::OffBody,
        Damage::PoseChanged,
        Damage::LogoBlurred,
        Damage::LogoRemoved,
        Damage::LogoMoved,
        Damage::FaceSwapped,
        Damage::Mirrored,
        Damage::RenderBlurred,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Damage::None => "good",
            Damage::ColorShift5 => "colour ΔE 5",
            Damage::ColorShift10 => "colour ΔE 10",
            Damage::ColorShift20 => "colour ΔE 20",
            Damage::OffBody => "garment off body",
            Damage::PoseChanged => "pose changed",
            Damage::LogoBlurred => "logo blurred",
            Damage::LogoRemoved => "logo removed",
            Damage::LogoMoved => "logo moved",
            Damage::FaceSwapped => "face swapped",
            Damage::Mirrored => "mirrored",
            Damage::RenderBlurred => "render blurred",
        }
    }

    /// The validator responsible for catching it.
    pub fn responsible(self) -> Option<Metric> {
        match self {
            Damage::None => None,
            Damage::ColorShift5 | Damage::ColorShift10 | Damage::ColorShift20 => {
                Some(Metric::Color)
            }
            Damage::OffBody => Some(Metric::Style),
            Damage::PoseChanged | Damage::Mirrored => Some(Metric::Pose),
            Damage::LogoBlurred
            | Damage::LogoRemoved
            | Damage::LogoMoved
            | Damage::RenderBlurred => Some(Metric::Branding),
            Damage::FaceSwapped => Some(Metric::Face),
        }
    }
}

/// One sample of the separation set: a render and what a detector would
/// report on it.
pub struct Case {
    pub damage: Damage,
    pub product: usize,
    pub label: String,
    pub image: RgbaImage,
    pub garment_mask: Mask,
    pub logo_boxes: Vec<Option<[f32; 4]>>,
    pub detected_pose: PoseLandmarks,
    pub generated_face: FacePoints,
}

/// The photos the set is built from.
pub struct SeparationInputs {
    pub person: RgbaImage,
    pub products: Vec<Product>,
    /// Other people's photos with their five face points.
    pub donors: Vec<(RgbaImage, [[f32; 2]; 5])>,
}

impl SeparationInputs {
    pub fn reference_pose(&self) -> PoseLandmarks {
        astronaut_pose()
    }
    pub fn reference_face(&self) -> FacePoints {
        astronaut_face()
    }
}

/// The largest branding region of a product, by area.
pub fn main_logo(product: &Product) -> Option<usize> {
    product
        .analysis
        .branding
        .regions
        .iter()
        .enumerate()
        .max_by(|a, b| a.1.area_share.total_cmp(&b.1.area_share))
        .map(|(i, _)| i)
}

/// Builds the good and damaged samples, deterministically. Per product:
/// four good composites (small placement, lighting and landmark-noise
/// differences, one JPEG-compressed), and from variants of those the
/// damaged ones.
pub fn build_cases(inputs: &SeparationInputs) -> Vec<Case> {
    let pose = astronaut_pose();
    let face = astronaut_face();
    let Some(face_key) = face.key_points() else {
        return Vec::new();
    };
    let mut cases = Vec::new();
    for (pi, product) in inputs.products.iter().enumerate() {
        let mut rng = SplitMix64::new(0x5eed_0000 + pi as u64);
        let nuisance = |rng: &mut SplitMix64| {
            (
                Placement {
                    dx: rng.range(-0.03, 0.03),
                    dy: rng.range(-0.03, 0.03),
                    rotation_deg: rng.range(-3.0, 3.0),
                    scale: rng.range(0.96, 1.04),
                },
                Look {
                    shading: rng.range(0.3, 0.7),
                    lab_offset: [
                        rng.range(-2.0, 2.0),
                        rng.range(-0.6, 0.6),
                        rng.range(-0.6, 0.6),
                    ],
                },
                rng.next_u64(),
            )
        };
        let mut push = |damage: Damage,
                        label: String,
                        c: Composite,
                        detected: PoseLandmarks,
                        gen_face: FacePoints| {
            cases.push(Case {
                damage,
                product: pi,
                label,
                image: c.image,
                garment_mask: c.garment_mask,
                logo_boxes: c.logo_boxes,
                detected_pose: detected,
                generated_face: gen_face,
            });
        };
        // Good.
        for g in 0..4 {
            let (pl, look, seed) = nuisance(&mut rng);
            let mut c = composite(&inputs.person, &pose, product, pl, look);
            if g == 3 {
                c.image = jpeg_roundtrip(&c.image, 85);
            }
            push(
                Damage::None,
                format!("good {g}"),
                c,
                jitter_pose(&pose, 4.0, seed),
                jitter_face(&face, 1.0, seed),
            );
        }
        // Colour shifts in three hue directions each.
        for (damage, de) in [
            (Damage::ColorShift5, 5.0),
            (Damage::ColorShift10, 10.0),
            (Damage::ColorShift20, 20.0),
        ] {
            for angle in [30.0f32, 150.0, 270.0] {
                let (pl, mut look, seed) = nuisance(&mut rng);
                let off = color_offset_for(product.analysis.colors.dominant.lab, de, angle);
                look.lab_offset = [look.lab_offset[0], off[1], off[2]];
                let c = composite(&inputs.person, &pose, product, pl, look);
                push(
                    damage,
                    format!("ΔE {de} @ {angle}°"),
                    c,
                    jitter_pose(&pose, 4.0, seed),
                    jitter_face(&face, 1.0, seed),
                );
            }
        }
        // Garment off the body: shifted, rotated, shrunk.
        for (dx, dy, rot, scale) in [
            (0.6, 0.0, 0.0, 1.0),
            (-0.55, 0.2, 0.0, 1.0),
            (0.0, 0.0, 35.0, 1.0),
            (0.3, -0.35, 20.0, 0.85),
        ] {
            let (_, look, seed) = nuisance(&mut rng);
            let pl = Placement {
                dx,
                dy,
                rotation_deg: rot,
                scale,
            };
            let c = composite(&inputs.person, &pose, product, pl, look);
            push(
                Damage::OffBody,
                format!("off body dx {dx} dy {dy} rot {rot}"),
                c,
                jitter_pose(&pose, 4.0, seed),
                jitter_face(&face, 1.0, seed),
            );
        }
        // Pose changed: what a detector would report on a render of another
        // pose (the image's garment stays, so only landmarks move).
        let other_poses = [
            ("cameraman", cameraman_pose()),
            ("sides swapped", swap_sides(&pose)),
            ("right arm raised 70°", rotate_arm(&pose, false, 70.0)),
            ("right arm out 45°", rotate_arm(&pose, false, 45.0)),
        ];
        for (name, other) in other_poses {
            let (pl, look, seed) = nuisance(&mut rng);
            let c = composite(&inputs.person, &pose, product, pl, look);
            push(
                Damage::PoseChanged,
                name.to_string(),
                c,
                jitter_pose(&other, 4.0, seed),
                jitter_face(&face, 1.0, seed),
            );
        }
        // Mirrored: what a detector reports on a render that shows the body
        // mirrored, flipped with the frame or drawn mirrored in place (the
        // image's garment stays, as for the changed poses).
        let frame_axis = (pose.image_size[0] as f32 - 1.0) / 2.0;
        let body_axis =
            (pose.image[joint::LEFT_SHOULDER].x + pose.image[joint::RIGHT_SHOULDER].x) / 2.0;
        for (name, axis) in [
            ("frame flipped", frame_axis),
            ("body mirrored in place", body_axis),
        ] {
            let (pl, look, seed) = nuisance(&mut rng);
            let c = composite(&inputs.person, &pose, product, pl, look);
            push(
                Damage::Mirrored,
                name.to_string(),
                c,
                jitter_pose(&mirror_pose(&pose, axis), 4.0, seed),
                jitter_face(&face, 1.0, seed),
            );
        }
        // Logo damage on the main branding region: blurred in the render,
        // lost or moved by the "renderer" (composited from a product photo
        // without it, or with it elsewhere).
        if let Some(li) = main_logo(product) {
            let garment_w = garmax_vision::mask::bounding_box(&product.mask)
                .map_or(1.0, |b| (b[2] - b[0] + 1) as f32);
            let removed = product.without_logo(li);
            for variant in 0..3u32 {
                let (pl, look, seed) = nuisance(&mut rng);
                let c0 = composite(&inputs.person, &pose, product, pl, look);
                let Some(bbox) = c0.logo_boxes.get(li).copied().flatten() else {
                    continue;
                };
                let mut c = c0.clone();
                blur_region(&mut c.image, &c.garment_mask, bbox, 2 + variant);
                push(
                    Damage::LogoBlurred,
                    format!("blur r{}", 2 + variant),
                    c,
                    jitter_pose(&pose, 4.0, seed),
                    jitter_face(&face, 1.0, seed),
                );
                let mut c = composite(&inputs.person, &pose, &removed, pl, look);
                c.logo_boxes = c0.logo_boxes.clone();
                push(
                    Damage::LogoRemoved,
                    format!("removed {variant}"),
                    c,
                    jitter_pose(&pose, 4.0, seed),
                    jitter_face(&face, 1.0, seed),
                );
                let (dx, dy) = [(0.25, 0.0), (-0.2, 0.15), (0.0, -0.2)][variant as usize];
                let moved = product.with_logo_moved(
                    li,
                    (dx * garment_w) as i64,
                    (dy * garment_w) as i64,
                    true,
                );
                let mut c = composite(&inputs.person, &pose, &moved, pl, look);
                c.logo_boxes = c0.logo_boxes.clone();
                push(
                    Damage::LogoMoved,
                    format!("moved {dx},{dy}"),
                    c,
                    jitter_pose(&pose, 4.0, seed),
                    jitter_face(&face, 1.0, seed),
                );
            }
        }
        // The whole render blurred (a soft generator, an upscaled preview).
        for radius in [2u32, 3] {
            let (pl, look, seed) = nuisance(&mut rng);
            let mut c = composite(&inputs.person, &pose, product, pl, look);
            let (w, h) = c.image.dimensions();
            blur_where(
                &mut c.image,
                &GrayImage::from_pixel(w, h, Luma([ON])),
                radius,
                1,
            );
            push(
                Damage::RenderBlurred,
                format!("render blur r{radius}"),
                c,
                jitter_pose(&pose, 4.0, seed),
                jitter_face(&face, 1.0, seed),
            );
        }
        // Face swapped with each donor.
        for (di, (donor, pts)) in inputs.donors.iter().enumerate() {
            let (pl, look, seed) = nuisance(&mut rng);
            let mut c = composite(&inputs.person, &pose, product, pl, look);
            let swapped = swap_face(&mut c.image, &face_key, donor, pts);
            push(
                Damage::FaceSwapped,
                format!("donor {di}"),
                c,
                jitter_pose(&pose, 4.0, seed),
                jitter_face(&swapped, 1.0, seed),
            );
        }
    }
    cases
}

/// The validation input for a case.
pub fn case_input<'a>(
    inputs: &'a SeparationInputs,
    case: &'a Case,
    reference_pose: &'a PoseLandmarks,
    reference_face: &'a FacePoints,
) -> ValidationInput<'a> {
    let product = &inputs.products[case.product];
    let mut input = ValidationInput::new(&case.image, product.input());
    input.reference = Some(&inputs.person);
    input.expected_pose = Some(reference_pose);
    input.detected_pose = Some(&case.detected_pose);
    input.reference_face = Some(reference_face);
    input.generated_face = Some(&case.generated_face);
    input.garment_mask = Some(&case.garment_mask);
    input.logo_boxes = Some(&case.logo_boxes);
    input
}

/// Per validator and damage: the AUC of good against that damage.
#[derive(Debug, Clone, serde::Serialize)]
pub struct SeparationRow {
    pub metric: Metric,
    pub damage: Damage,
    pub auc: f32,
    /// Mean score of the good set and of this damage.
    pub good_mean: f32,
    pub damaged_mean: f32,
    pub responsible: bool,
}

/// Scores every case with `engine` and tabulates AUC per (validator,
/// damage). `scores[i][metric]` is returned too for further use.
pub fn separation_table(
    cases: &[Case],
    scores: &[Vec<(Metric, Option<f32>)>],
) -> Vec<SeparationRow> {
    let mut rows = Vec::new();
    for metric in Metric::ALL {
        let get = |i: usize| {
            scores[i]
                .iter()
                .find(|(m, _)| *m == metric)
                .and_then(|(_, s)| *s)
        };
        let good: Vec<f32> = (0..cases.len())
            .filter(|&i| cases[i].damage == Damage::None)
            .filter_map(get)
            .collect();
        for damage in Damage::ALL {
            let bad: Vec<f32> = (0..cases.len())
                .filter(|&i| cases[i].damage == damage)
                .filter_map(get)
                .collect();
            if good.is_empty() || bad.is_empty() {
                continue;
            }
            rows.push(SeparationRow {
                metric,
                damage,
                auc: roc_auc(&good, &bad),
                good_mean: good.iter().sum::<f32>() / good.len() as f32,
                damaged_mean: bad.iter().sum::<f32>() / bad.len() as f32,
                responsible: damage.responsible() == Some(metric),
            });
        }
    }
    rows
}

/// Flaws of the simulated renderer, each undone by one knob as it rises:
/// at the tier's default parameters the render shows the full flaw, at the
/// top of the knob's range none.
#[derive(Debug, Clone, Copy, Default)]
pub struct Flaws {
    /// Dye error (ΔE2000) at the default colour matching weight.
    pub color_de: f32,
    /// Logo blur radius at the default branding enhancement weight.
    pub logo_blur: u32,
}

/// A stand-in renderer for retry tests: composites `product` on the person
/// with flaws scaled by how far each knob is from the top of its range.
pub fn simulated_render(
    inputs: &SeparationInputs,
    product: usize,
    params: &Parameters,
    defaults: &Parameters,
    flaws: Flaws,
) -> Composite {
    let pose = astronaut_pose();
    let p = &inputs.products[product];
    let remaining = |v: f32, d: f32| {
        if d >= 1.0 {
            0.0
        } else {
            ((1.0 - v) / (1.0 - d)).clamp(0.0, 1.0)
        }
    };
    let color_left = remaining(params.color_matching_weight, defaults.color_matching_weight);
    let mut look = Look::default();
    if flaws.color_de > 0.0 && color_left > 0.0 {
        let off = color_offset_for(
            p.analysis.colors.dominant.lab,
            flaws.color_de * color_left,
            60.0,
        );
        look.lab_offset = off;
    }
    let mut c = composite(&inputs.person, &pose, p, Placement::default(), look);
    let blur = (flaws.logo_blur as f32
        * remaining(
            params.branding_enhancement_weight,
            defaults.branding_enhancement_weight,
        ))
    .round() as u32;
    if blur > 0
        && let Some(li) = main_logo(p)
        && let Some(bbox) = c.logo_boxes.get(li).copied().flatten()
    {
        blur_region(&mut c.image, &c.garment_mask, bbox, blur);
    }
    c
}

/// Landmarks scaled to a photo `factor` times larger.
pub fn scale_pose(pose: &PoseLandmarks, factor: f32) -> PoseLandmarks {
    let mut p = pose.clone();
    p.image_size = pose.image_size.map(|v| (v as f32 * factor).round() as u32);
    for l in &mut p.image {
        l.x *= factor;
        l.y *= factor;
    }
    p
}

/// Face points scaled to a photo `factor` times larger.
pub fn scale_face(face: &FacePoints, factor: f32) -> FacePoints {
    FacePoints {
        layout: face.layout,
        points: face
            .points
            .iter()
            .map(|p| [p[0] * factor, p[1] * factor])
            .collect(),
    }
}

/// A good composite at `size` pixels (the person photo resampled), with
/// everything a validation needs: the benchmark's input.
pub struct BenchCase {
    pub person: RgbaImage,
    pub pose: PoseLandmarks,
    pub face: FacePoints,
    pub composite: Composite,
}

pub fn bench_case(person: &RgbaImage, product: &Product, size: u32) -> BenchCase {
    let factor = size as f32 / person.width().max(1) as f32;
    let big = image::imageops::resize(
        person,
        size,
        (person.height() as f32 * factor).round() as u32,
        image::imageops::FilterType::Triangle,
    );
    let pose = scale_pose(&astronaut_pose(), factor);
    let face = scale_face(&astronaut_face(), factor);
    let composite = composite(&big, &pose, product, Placement::default(), Look::default());
    BenchCase {
        person: big,
        pose,
        face,
        composite,
    }
}

impl BenchCase {
    pub fn input<'a>(&'a self, product: &'a Product) -> ValidationInput<'a> {
        let mut input = ValidationInput::new(&self.composite.image, product.input());
        input.reference = Some(&self.person);
        input.expected_pose = Some(&self.pose);
        input.detected_pose = Some(&self.pose);
        input.reference_face = Some(&self.face);
        input.generated_face = Some(&self.face);
        input.garment_mask = Some(&self.composite.garment_mask);
        input.logo_boxes = Some(&self.composite.logo_boxes);
        input
    }
}

/// A flat-colour RGBA image, handy for hostile-input tests.
pub fn flat(w: u32, h: u32, rgba: [u8; 4]) -> RgbaImage {
    RgbaImage::from_pixel(w, h, Rgba(rgba))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auc_counts_pairs() {
        assert_eq!(roc_auc(&[1.0, 2.0], &[0.0, 0.5]), 1.0);
        assert_eq!(roc_auc(&[0.0], &[1.0]), 0.0);
        assert_eq!(roc_auc(&[1.0], &[1.0]), 0.5);
        assert!(roc_auc(&[], &[1.0]).is_nan());
    }

    #[test]
    fn color_offset_hits_the_target_delta_e() {
        let base = Lab::new(50.0, 45.0, 30.0);
        for target in [5.0, 10.0, 20.0] {
            let o = color_offset_for(base, target, 120.0);
            let d = delta_e2000(base, Lab::new(base.l + o[0], base.a + o[1], base.b + o[2]));
            assert!((d - target).abs() < 0.05, "{d} vs {target}");
        }
    }

    #[test]
    fn swapping_sides_twice_is_identity() {
        let p = astronaut_pose();
        assert_eq!(swap_sides(&swap_sides(&p)), p);
        assert_eq!(p.image.len(), BLAZEPOSE_COUNT);
        assert_eq!(cameraman_pose().image.len(), BLAZEPOSE_COUNT);
    }
}
