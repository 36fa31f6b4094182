//! Placement: the garment warp (landmark correspondences, thin-plate
//! spline, sleeve rotations) rasterised at the photo's resolution and the
//! texture sampled through it, one layer per garment part.

use garmax_core::product_map::ProductMap;
use rayon::prelude::*;

use crate::error::RenderError;
use crate::garment::{BottomLandmarks, GarmentLandmarks};
use crate::geometry::{P2, segment_distance};
use crate::legs::LegFrame;
use crate::params::RenderQuality;
use crate::person::BodyFrame;
use crate::plane::Plane;
use crate::warp::{BottomWarp, GarmentWarp, MeshWarp, UvBuffer, rasterise};

use super::texture::{GarmentTexture, Texture, alpha_bbox, sleeve_cuffs};

/// One garment part sampled at every photo pixel (straight, not
/// premultiplied, linear RGB; zero alpha where the part does not reach).
pub struct Layer {
    pub rgb: Vec<[f32; 3]>,
    pub alpha: Plane,
    /// Logo weight of the texel shown.
    pub logo: Plane,
    /// Plain-fabric weight of the texel shown.
    pub fabric: Plane,
}

/// The placed garment's two layers.
pub struct Placement {
    /// Torso front (and back, seen through nothing: the neck hole is cut),
    /// or the whole of a bottom.
    pub torso: Layer,
    /// Both sleeves; they lie over the arms, the torso layer under them.
    /// Empty for a bottom.
    pub sleeves: Layer,
}

/// The warp of a top or dress (landmarks `gl`, texture pixels) onto `body`
/// at `pose_guidance`, rasterised as a `quality.mesh_cells()` mesh into a
/// `w × h` photo; `hem` overrides the body's hem corners (a dress).
#[allow(clippy::too_many_arguments)]
pub fn warp_upper(
    tex: &GarmentTexture,
    gl: &GarmentLandmarks,
    body: &BodyFrame,
    pose_guidance: f32,
    hem: Option<[P2; 2]>,
    quality: RenderQuality,
    w: u32,
    h: u32,
) -> Result<(GarmentWarp, UvBuffer, UvBuffer), RenderError> {
    let alpha = &tex.texture.alpha;
    let cuffs = sleeve_cuffs(alpha, gl);
    let warp = GarmentWarp::build(gl, body, cuffs, pose_guidance, hem).ok_or_else(|| {
        RenderError::Generation("the garment landmarks give a degenerate warp".into())
    })?;
    let (torso, sleeves) = rasterise_texture(&warp, alpha, quality, w, h)?;
    Ok((warp, torso, sleeves))
}

/// The warp of a skirt, shorts or pants (landmarks `g`, texture pixels)
/// onto the legs, rasterised like [`warp_upper`]; one layer.
pub fn warp_bottom(
    tex: &GarmentTexture,
    g: &BottomLandmarks,
    legs: &LegFrame,
    pose_guidance: f32,
    quality: RenderQuality,
    w: u32,
    h: u32,
) -> Result<(BottomWarp, UvBuffer), RenderError> {
    let warp = BottomWarp::build(g, legs, pose_guidance).ok_or_else(|| {
        RenderError::Generation("the garment landmarks give a degenerate warp".into())
    })?;
    let (layer, _) = rasterise_texture(&warp, &tex.texture.alpha, quality, w, h)?;
    Ok((warp, layer))
}

/// Rasterises the texels of `alpha` through `warp` (empty mesh cells are
/// skipped) into a main and a sleeve buffer.
fn rasterise_texture(
    warp: &impl MeshWarp,
    alpha: &Plane,
    quality: RenderQuality,
    w: u32,
    h: u32,
) -> Result<(UvBuffer, UvBuffer), RenderError> {
    let bbox = alpha_bbox(alpha)
        .ok_or_else(|| RenderError::Garment("the garment mask is empty".into()))?;
    let occupied = |a: P2, d: P2| {
        let (x0, y0) = (a.x.floor().max(0.0) as u32, a.y.floor().max(0.0) as u32);
        let (x1, y1) = (
            (d.x.ceil() as u32).min(alpha.w),
            (d.y.ceil() as u32).min(alpha.h),
        );
        (y0..y1).any(|y| (x0..x1).any(|x| alpha.get(x, y) > 0.0))
    };
    Ok(rasterise(warp, bbox, quality.mesh_cells(), w, h, occupied))
}

/// A drawn body's upper arms inside the sleeves. The flat sleeve, bent
/// onto the arm, covers the arm's outer side but not all of its inner side
/// near the armpit, and a drawn upper arm lies in front of the torso
/// layer, so without this a wedge of bare arm shows between sleeve and
/// torso. Every front-most arm pixel near the segment shoulder → elbow of
/// its side, and no farther along it than that sleeve already reaches
/// (forearms and hands crossing it excepted), takes the texel of the nearest sleeve pixel within a fifth of a
/// shoulder width: the sleeve wraps the arm as a tube would. A photo's
/// arms are guessed, not drawn; there the skin in the gap is the person's
/// own arm and stays.
pub fn wrap_sleeves(uv: &mut UvBuffer, arms_front: &Plane, hands: &Plane, body: &BodyFrame) {
    let (w, h) = (uv.w as i64, uv.h as i64);
    let (joints, elbows) = (body.shoulders(), body.elbows());
    let wrists = [body.wrist_l, body.wrist_r];
    // A forearm or hand crossing in front of an upper arm (arms crossed)
    // stays in front of its sleeve.
    let forearm = |p: P2| {
        (0..2).any(|s| segment_distance(p, elbows[s], wrists[s]).0 < WRAP_ARM_RADIUS * body.sw)
    };
    let pixel = |i: usize| P2::new((i as i64 % w) as f32 + 0.5, (i as i64 / w) as f32 + 0.5);
    let radius = WRAP_ARM_RADIUS * body.sw;
    let search = (WRAP_SEARCH * body.sw).ceil() as i64;
    for s in 0..2 {
        if !body.arm_seen[s] {
            continue;
        }
        let axis = elbows[s].minus(joints[s]);
        let len = axis.len();
        if len < 1.0 {
            continue;
        }
        let dir = axis.scale(1.0 / len);
        // Along the arm from the joint, and off its line.
        let on_arm = |p: P2| {
            let d = p.minus(joints[s]);
            (d.dot(dir), d.cross(dir).abs())
        };
        let sleeve = |i: usize| uv.u[i].is_finite();
        let reach = (0..uv.u.len())
            .filter(|&i| sleeve(i))
            .map(|i| on_arm(pixel(i)))
            .filter(|&(t, off)| off < radius && t > 0.0 && t < len)
            .map(|(t, _)| t)
            .fold(0.0f32, f32::max);
        let gaps: Vec<usize> = (0..uv.u.len())
            .filter(|&i| !sleeve(i) && arms_front.data[i] > 0.5 && hands.data[i] < 0.5)
            .filter(|&i| {
                let (t, off) = on_arm(pixel(i));
                off < radius && t > 0.0 && t < reach && !forearm(pixel(i))
            })
            .collect();
        let fills: Vec<(usize, f32, f32)> = gaps
            .par_iter()
            .filter_map(|&i| {
                let (x, y) = (i as i64 % w, i as i64 / w);
                let mut best: Option<(i64, usize)> = None;
                for dy in -search..=search {
                    for dx in -search..=search {
                        let (nx, ny) = (x + dx, y + dy);
                        if nx < 0 || ny < 0 || nx >= w || ny >= h {
                            continue;
                        }
                        let j = (ny * w + nx) as usize;
                        let d2 = dx * dx + dy * dy;
                        if d2 <= search * search && sleeve(j) && best.is_none_or(|(b, _)| d2 < b) {
                            best = Some((d2, j));
                        }
                    }
                }
                best.map(|(_, j)| (i, uv.u[j], uv.v[j]))
            })
            .collect();
        for (i, u, v) in fills {
            uv.u[i] = u;
            uv.v[i] = v;
        }
    }
}

/// Half-width of the band around the shoulder → elbow segment that
/// [`wrap_sleeves`] fills, in shoulder widths (a drawn upper arm is about
/// a quarter shoulder width across).
const WRAP_ARM_RADIUS: f32 = 0.18;
/// How far [`wrap_sleeves`] looks for the sleeve texel it extends.
const WRAP_SEARCH: f32 = 0.2;

/// Where a dress's hem falls: its length below the shoulders relative to
/// its shoulder width (the flat lay's proportions) on the body's shoulder
/// seams, at least as wide as the legs there.
pub struct DressHem {
    pub corners: [P2; 2],
    /// The hem's position along the legs (0 hip, 1 knee, 2 ankle).
    pub t: [f32; 2],
    /// The skirt part's outline: hip-level outer thighs to the hem.
    pub envelope: Vec<P2>,
}

/// The dress's hem on `body` (landmarks `gl` in texture pixels).
pub fn dress_hem(gl: &GarmentLandmarks, body: &BodyFrame, legs: &LegFrame) -> DressHem {
    let g_sw = gl.shoulder_left.dist(gl.shoulder_right).max(1.0);
    // The warp puts the garment's shoulders on seams 0.13 shoulder widths
    // outside the joints: 1.26 shoulder widths apart.
    let k = 1.26 * body.sw / g_sw;
    let sh_mid = body.shoulder_l.mid(body.shoulder_r);
    let g_len = gl
        .shoulder_left
        .mid(gl.shoulder_right)
        .dist(gl.hem_left.mid(gl.hem_right));
    let len = g_len * k;
    let hem_c = sh_mid.plus(body.down.scale(len));
    let hip_mid = legs.hip[0].mid(legs.hip[1]);
    let thigh = 0.5 * (legs.hip[0].dist(legs.knee[0]) + legs.hip[1].dist(legs.knee[1]));
    let below_hips = hem_c.minus(hip_mid).dot(legs.down);
    let t = (below_hips / thigh.max(1.0)).clamp(0.0, 2.0);
    let across = body.across;
    let own_half = 0.5 * gl.hem_left.dist(gl.hem_right) * k;
    let legs_half = legs
        .edge(1, t, true, 0.12)
        .minus(legs.edge(0, t, true, 0.12))
        .dot(across)
        .abs()
        * 0.5;
    let half = own_half.max(legs_half);
    let corners = [
        hem_c.minus(across.scale(half)),
        hem_c.plus(across.scale(half)),
    ];
    let envelope = vec![
        legs.edge(0, 0.25, true, 0.12),
        legs.edge(1, 0.25, true, 0.12),
        corners[1],
        corners[0],
    ];
    DressHem {
        corners,
        t: [t, t],
        envelope,
    }
}

/// Samples the texture through a buffer of source coordinates.
pub fn sample_layer(texture: &Texture, uv: &UvBuffer) -> Layer {
    let (w, h) = (uv.w, uv.h);
    let n = (w * h) as usize;
    let mut rgb = vec![[0.0f32; 3]; n];
    let mut a = Plane::new(w, h, 0.0);
    let mut logo = Plane::new(w, h, 0.0);
    let mut fabric = Plane::new(w, h, 0.0);
    rgb.par_iter_mut()
        .zip(a.data.par_iter_mut())
        .zip(logo.data.par_iter_mut().zip(fabric.data.par_iter_mut()))
        .enumerate()
        .for_each(|(i, ((rgb, a), (logo, fabric)))| {
            let (u, v) = (uv.u[i], uv.v[i]);
            if u.is_finite() {
                let (c, al) = texture.sample(u, v);
                if al > 1e-4 {
                    *rgb = [c[0] / al, c[1] / al, c[2] / al];
                }
                *a = al;
                *logo = texture.logo.sample(u, v);
                *fabric = texture.fabric.sample(u * 0.5, v * 0.5);
            }
        });
    Layer {
        rgb,
        alpha: a,
        logo,
        fabric,
    }
}

/// Which product-photo point each photo pixel shows once placed: the
/// sleeve layer where it is on top (it lies over the torso), else the torso
/// layer, wherever a layer's alpha passes ½; the texture coordinates divided
/// by `texels_per_px` (the texture's scale) are product pixels. Occlusion
/// comes later, so a print hidden behind a forearm is still on the map.
pub fn product_map(
    placement: &Placement,
    torso_uv: &UvBuffer,
    sleeves_uv: &UvBuffer,
    texels_per_px: f32,
) -> ProductMap {
    let (w, h) = (torso_uv.w, torso_uv.h);
    let mut map = ProductMap::new(w, h);
    let k = 1.0 / texels_per_px.max(1e-6);
    for y in 0..h {
        for x in 0..w {
            let i = (y * w + x) as usize;
            let uv = if placement.sleeves.alpha.data[i] > 0.5 {
                [sleeves_uv.u[i], sleeves_uv.v[i]]
            } else if placement.torso.alpha.data[i] > 0.5 {
                [torso_uv.u[i], torso_uv.v[i]]
            } else {
                continue;
            };
            map.set(x, y, [uv[0] * k, uv[1] * k]);
        }
    }
    map
}

impl Layer {
    /// A layer of nothing (the part does not exist).
    pub fn empty(w: u32, h: u32) -> Layer {
        Layer {
            rgb: vec![[0.0; 3]; (w * h) as usize],
            alpha: Plane::new(w, h, 0.0),
            logo: Plane::new(w, h, 0.0),
            fabric: Plane::new(w, h, 0.0),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::test_scene;

    /// The test scene's tee, warped onto its body: the scene, the texture
    /// and the torso and sleeve coordinate buffers.
    fn placed_tee() -> (test_scene::TestScene, GarmentTexture, UvBuffer, UvBuffer) {
        let scene = test_scene::scene();
        let tex = GarmentTexture::prepare(&scene.garment, scene.body.sw * 1.2, 0.8);
        let gl = scene.garment.upper_landmarks().unwrap().scaled(tex.scale);
        let (w, h) = scene.person.photo.dimensions();
        let (_warp, uv_t, uv_s) =
            warp_upper(&tex, &gl, &scene.body, 1.0, None, RenderQuality::Sd, w, h).unwrap();
        (scene, tex, uv_t, uv_s)
    }

    #[test]
    fn the_product_map_points_each_placed_pixel_at_the_product_texel_it_shows() {
        let (scene, tex, uv_t, uv_s) = placed_tee();
        let (w, h) = scene.person.photo.dimensions();
        let placement = Placement {
            torso: sample_layer(&tex.texture, &uv_t),
            sleeves: sample_layer(&tex.texture, &uv_s),
        };
        let map = product_map(&placement, &uv_t, &uv_s, tex.scale);
        let (pw, ph) = scene.garment.photo.dimensions();
        let (mut placed, mut on_mask) = (0usize, 0usize);
        for y in 0..h {
            for x in 0..w {
                let i = (y * w + x) as usize;
                let on =
                    placement.torso.alpha.data[i] > 0.5 || placement.sleeves.alpha.data[i] > 0.5;
                let Some([u, v]) = map.get(x, y) else {
                    assert!(!on, "placed pixel ({x}, {y}) missing from the map");
                    continue;
                };
                assert!(on, "unplaced pixel ({x}, {y}) on the map");
                placed += 1;
                // The product photo's own mask holds the garment there.
                assert!(u >= 0.0 && v >= 0.0 && u <= pw as f32 && v <= ph as f32);
                let m = scene
                    .garment
                    .mask
                    .get_pixel((u as u32).min(pw - 1), (v as u32).min(ph - 1));
                on_mask += usize::from(m.0[0] > 0);
            }
        }
        assert!(placed > 1000, "{placed} placed pixels");
        // Bilinear alpha passes ½ up to a texel outside the mask's edge.
        assert!(
            on_mask as f32 >= 0.98 * placed as f32,
            "{on_mask} of {placed} mapped onto the product's mask"
        );
    }

    #[test]
    fn the_torso_layer_covers_the_chest_and_the_sleeves_lie_outside_it() {
        let (scene, tex, uv_t, uv_s) = placed_tee();
        let (w, h) = scene.person.photo.dimensions();
        let torso = sample_layer(&tex.texture, &uv_t);
        let sleeves = sample_layer(&tex.texture, &uv_s);
        let b = &scene.body;
        let chest = b
            .shoulder_l
            .mid(b.shoulder_r)
            .plus(b.down.scale(0.5 * b.sw));
        let at = |l: &Layer, p: P2| l.alpha.get(p.x as u32, p.y as u32);
        assert!(at(&torso, chest) > 0.9, "chest {}", at(&torso, chest));
        assert_eq!(at(&sleeves, chest), 0.0);
        // The sleeves hang from the shoulders: most of a short tee's sleeve
        // layer lies within 0.8 shoulder widths of a shoulder joint (the
        // rest are hem corners outside the shoulder–armpit lines, which the
        // sleeve layer carries with zero rotation).
        let sleeve_px: Vec<P2> = (0..w * h)
            .filter(|&i| sleeves.alpha.data[i as usize] > 0.5)
            .map(|i| P2::new((i % w) as f32 + 0.5, (i / w) as f32 + 0.5))
            .collect();
        assert!(sleeve_px.len() > 100, "{} sleeve pixels", sleeve_px.len());
        let near = sleeve_px
            .iter()
            .filter(|q| q.dist(b.shoulder_l).min(q.dist(b.shoulder_r)) < 0.8 * b.sw)
            .count();
        assert!(
            near * 10 > sleeve_px.len() * 9,
            "{near} of {}",
            sleeve_px.len()
        );
        for s in [b.shoulder_l, b.shoulder_r] {
            assert!(sleeve_px.iter().any(|q| q.dist(s) < 0.5 * b.sw));
        }
        // Far from the body nothing is placed.
        assert_eq!(at(&torso, P2::new(2.0, 2.0)), 0.0);
        // The sampled colour is the garment's (the synthetic tee is one
        // base colour with soft folds) below the chest print.
        let belly = chest.plus(b.down.scale(0.6 * b.sw));
        let i = torso.alpha.idx(belly.x as u32, belly.y as u32);
        let c = crate::render::color::lin_to_u8(torso.rgb[i]);
        let de = garmax_vision::color::delta_e2000(
            garmax_vision::color::srgb_to_lab(c),
            scene.garment.dominant,
        );
        assert!(de < 10.0, "fabric colour ΔE {de}");
    }

    /// The pixels of a sleeve layer, per garment side.
    fn sleeve_pixels(uv: &UvBuffer) -> [Vec<P2>; 2] {
        let mut sides: [Vec<P2>; 2] = [Vec::new(), Vec::new()];
        for i in 0..uv.u.len() {
            if uv.u[i].is_finite() {
                let p = P2::new(
                    (i as u32 % uv.w) as f32 + 0.5,
                    (i as u32 / uv.w) as f32 + 0.5,
                );
                sides[usize::from(p.x > uv.w as f32 / 2.0)].push(p);
            }
        }
        sides
    }

    #[test]
    fn each_sleeve_end_is_centred_on_its_upper_arm() {
        let scene = test_scene::scene();
        let tex = GarmentTexture::prepare(&scene.garment, scene.body.sw * 1.2, 0.8);
        let gl = scene.garment.upper_landmarks().unwrap().scaled(tex.scale);
        let (w, h) = scene.person.photo.dimensions();
        let b = &scene.body;
        let (joints, elbows) = (b.shoulders(), b.elbows());
        // Distance of a point from the line shoulder joint → elbow of arm `s`.
        let off_arm = |p: P2, s: usize| {
            let axis = elbows[s].minus(joints[s]).unit_or(b.down);
            p.minus(joints[s]).cross(axis).abs()
        };
        let bent = warp_upper(&tex, &gl, b, 1.0, None, RenderQuality::Sd, w, h).unwrap();
        let flat = warp_upper(&tex, &gl, b, 0.0, None, RenderQuality::Sd, w, h).unwrap();
        let cuffs = sleeve_cuffs(&tex.texture.alpha, &gl);
        for s in 0..2 {
            // The cuff's centre lands on the arm.
            let cuff = off_arm(bent.0.map(cuffs[s]), s);
            assert!(
                cuff < 0.05 * b.sw,
                "sleeve {s}: cuff {cuff:.1} px off its arm"
            );
            // The sleeve as drawn lies along the arm: its centroid is off
            // the arm's line by the shoulder cap only (the seam sits outside
            // the joint). Without pose guidance the sleeve keeps its
            // flat-lay angle, which stands off the hanging arm.
            let pixels = sleeve_pixels(&bent.2);
            assert!(
                pixels[s].len() > 100,
                "sleeve {s}: {} pixels",
                pixels[s].len()
            );
            let on = off_arm(P2::centroid(&pixels[s]), s);
            assert!(on < 0.16 * b.sw, "sleeve {s} lies {on:.1} px off its arm");
            assert_eq!(flat.0.sleeve_rotation[s], 0.0);
            let own = off_arm(P2::centroid(&sleeve_pixels(&flat.2)[s]), s);
            assert!(
                own > on + 0.1 * b.sw,
                "sleeve {s}: flat {own:.1}, bent {on:.1}"
            );
        }
        // The bend is none at the seam: the shoulder and armpit texels land
        // where the torso's spline puts them.
        for (q, s) in [(gl.shoulder_left, 0), (gl.armpit_right, 1)] {
            let just_outside = q.plus(if s == 0 {
                P2::new(-0.5, 0.0)
            } else {
                P2::new(0.5, 0.0)
            });
            assert!(
                bent.0
                    .map(just_outside)
                    .dist(bent.0.tps.apply(just_outside))
                    < 0.5
            );
        }
    }

    #[test]
    fn a_drawn_upper_arm_is_wrapped_as_far_as_its_sleeve_reaches() {
        let scene = test_scene::scene();
        let b = &scene.body;
        let (w, h) = scene.person.photo.dimensions();
        let (joint, elbow) = (b.shoulders()[0], b.elbows()[0]);
        let dir = elbow.minus(joint).unit_or(b.down);
        let len = elbow.dist(joint);
        // A drawn upper arm 0.24 shoulder widths across down to the elbow,
        // and a sleeve over one half of it, down to 40 % of its length.
        let (mut arm, mut uv) = (Plane::new(w, h, 0.0), UvBuffer::new(w, h));
        for i in 0..(w * h) as usize {
            let p = P2::new((i as u32 % w) as f32 + 0.5, (i as u32 / w) as f32 + 0.5);
            let d = p.minus(joint);
            let (t, off) = (d.dot(dir), d.cross(dir));
            if t > 0.0 && t < len && off.abs() < 0.12 * b.sw {
                arm.data[i] = 1.0;
                if t < 0.4 * len && off > 0.0 {
                    (uv.u[i], uv.v[i]) = (7.0, 9.0);
                }
            }
        }
        let before = uv.u.iter().filter(|u| u.is_finite()).count();
        wrap_sleeves(&mut uv, &arm, &Plane::new(w, h, 0.0), b);
        let (mut inner_filled, mut inner, mut below) = (0usize, 0usize, 0usize);
        for i in 0..(w * h) as usize {
            let p = P2::new((i as u32 % w) as f32 + 0.5, (i as u32 / w) as f32 + 0.5);
            let t = p.minus(joint).dot(dir);
            if uv.u[i].is_finite() {
                assert_eq!((uv.u[i], uv.v[i]), (7.0, 9.0), "a sleeve texel");
                assert!(arm.data[i] > 0.5, "only arm pixels are filled");
                below += usize::from(t > 0.45 * len);
            } else if arm.data[i] > 0.5 && t > 0.05 * len && t < 0.35 * len {
                inner += 1;
            }
            if arm.data[i] > 0.5 && t > 0.05 * len && t < 0.35 * len && uv.u[i].is_finite() {
                inner_filled += 1;
            }
        }
        let after = uv.u.iter().filter(|u| u.is_finite()).count();
        assert!(
            after > before + before / 2,
            "{before} → {after} sleeve pixels"
        );
        assert_eq!(
            inner, 0,
            "the arm's inner side within the sleeve's reach is covered"
        );
        assert!(inner_filled > 0);
        assert_eq!(below, 0, "nothing beyond the sleeve's reach");
    }

    #[test]
    fn an_empty_layer_covers_nothing() {
        let l = Layer::empty(4, 3);
        assert_eq!(l.alpha.sum(), 0.0);
        assert!(l.rgb.iter().all(|c| *c == [0.0; 3]));
    }
}
