//! The local renderer: warps the product onto the person, transfers the
//! person's shading, keeps face, hair, hands and arms in front, replaces
//! old clothing the new garment no longer covers, and measures itself.

use std::time::Instant;

use garmax_vision::color::{Lab, delta_e2000, delta_e2000_weighted, lab_to_srgb, srgb_to_lab};
use image::imageops::FilterType;
use image::{GrayImage, RgbaImage};
use rayon::prelude::*;
use serde::Serialize;

use crate::error::RenderError;
use crate::garment::{GarmentInput, sleeve_side};
use crate::geometry::{P2, smoothstep};
use crate::params::{RenderParams, RenderQuality};
use crate::person::{
    BodyFrame, PersonInput, Regions, apply_supplied, derive_regions, point_in_polygon,
    torso_polygon,
};
use crate::plane::{Plane, grow, masked_box_blur, push_pull_fill};
use crate::provider::{RenderOutput, RenderProvider, RenderRequest};
use crate::warp::{Correspondence, GarmentWarp, UvBuffer, rasterise};

/// The offline renderer (provider name `local`).
#[derive(Debug, Clone, Default)]
pub struct LocalRenderer;

impl RenderProvider for LocalRenderer {
    fn name(&self) -> &'static str {
        "local"
    }

    fn render(&self, request: &RenderRequest<'_>) -> Result<RenderOutput, RenderError> {
        render_local(
            request.person,
            request.garment,
            &request.params,
            request.quality,
        )
    }
}

/// Measurements of one render.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RenderStats {
    /// Mean per-pixel ΔE2000 of the rendered base fabric (visible garment
    /// pixels whose product texel is plain fabric) to the product's
    /// dominant colour; shading folds count in it.
    pub base_fabric_delta_e: f32,
    /// ΔE2000 of the rendered base fabric's mean colour to the dominant
    /// colour: the colour cast, without the folds.
    pub base_fabric_mean_delta_e: f32,
    pub base_fabric_pixels: usize,
    /// Fraction of the garment's visible pixels.
    pub garment_pixels: usize,
    /// IoU of the visible garment (alpha > ½) with the upper-garment region.
    pub upper_garment_iou: f32,
    /// Fraction of the upper-garment region the garment covers (the IoU
    /// also counts sleeves and the hem below the torso against it).
    pub upper_garment_coverage: f32,
    pub upper_garment_source: String,
    /// Pixels of the face and hands (unprotected definition: the face
    /// ellipse and hand discs inside the person mask) that changed by more
    /// than 2 levels, and their count.
    pub face_hand_pixels: usize,
    pub face_hand_pixels_changed: usize,
    /// Pixels of old clothing replaced by skin / by background.
    pub skin_filled_pixels: usize,
    pub background_filled_pixels: usize,
    pub regions_source: String,
    pub timings_ms: Vec<(String, f64)>,
}

/// Everything a render produces besides the image.
#[derive(Clone)]
pub struct RenderDetail {
    pub garment_alpha: GrayImage,
    pub regions_overlay: image::RgbImage,
    pub body: BodyFrame,
    pub correspondences: Vec<Correspondence>,
    pub sleeve_rotation_deg: [f32; 2],
    pub stats: RenderStats,
    pub warnings: Vec<String>,
}

fn srgb_lut() -> &'static [f32; 256] {
    static LUT: std::sync::OnceLock<[f32; 256]> = std::sync::OnceLock::new();
    LUT.get_or_init(|| {
        let mut t = [0.0; 256];
        for (i, v) in t.iter_mut().enumerate() {
            let c = i as f32 / 255.0;
            *v = if c <= 0.04045 {
                c / 12.92
            } else {
                ((c + 0.055) / 1.055).powf(2.4)
            };
        }
        t
    })
}

fn to_srgb(c: f32) -> f32 {
    let c = c.clamp(0.0, 1.0);
    if c <= 0.003_130_8 {
        c * 12.92
    } else {
        1.055 * c.powf(1.0 / 2.4) - 0.055
    }
}

/// Premultiplied linear-RGB + alpha planes of the garment texture.
struct Texture {
    rgb: [Plane; 3],
    alpha: Plane,
    /// 1 on logo/print boxes (soft edges), 0 elsewhere.
    logo: Plane,
    /// 1 where the texel is plain base fabric (close to the dominant colour),
    /// at half the texture's resolution.
    fabric: Plane,
}

impl Texture {
    fn sample(&self, u: f32, v: f32) -> ([f32; 3], f32) {
        let a = self.alpha.sample(u, v);
        let rgb = [
            self.rgb[0].sample(u, v),
            self.rgb[1].sample(u, v),
            self.rgb[2].sample(u, v),
        ];
        (rgb, a)
    }
}

fn timer(timings: &mut Vec<(String, f64)>, name: &str, t: &mut Instant) {
    timings.push((name.to_string(), t.elapsed().as_secs_f64() * 1000.0));
    *t = Instant::now();
}

/// Renders `garment` onto `person` with `params`.
pub fn render_local(
    person: &PersonInput,
    garment: &GarmentInput,
    params: &RenderParams,
    quality: RenderQuality,
) -> Result<RenderOutput, RenderError> {
    let params = params.clamped();
    let mut timings = Vec::new();
    let mut t = Instant::now();
    let (w, h) = person.photo.dimensions();
    if w == 0 || h == 0 {
        return Err(RenderError::Input("the person photo is empty".into()));
    }
    if person.mask.dimensions() != (w, h) {
        return Err(RenderError::Input(format!(
            "person mask is {}×{}, photo is {w}×{h}",
            person.mask.width(),
            person.mask.height()
        )));
    }
    if person.landmarks.image_size != [w, h] {
        return Err(RenderError::Input(format!(
            "landmarks refer to a {}×{} image, photo is {w}×{h}",
            person.landmarks.image_size[0], person.landmarks.image_size[1]
        )));
    }
    garment.validate()?;
    let body = BodyFrame::from_landmarks(&person.landmarks)?;
    let mut warnings = body.warnings.clone();
    let person_px = person.mask.as_raw().iter().filter(|v| **v >= 128).count();
    if person_px < ((w as usize * h as usize) / 200).max(16) {
        return Err(RenderError::NoPerson(
            "the person mask is (nearly) empty".into(),
        ));
    }
    let mut regions = derive_regions(person, &body);
    if let Some(supplied) = &person.regions {
        apply_supplied(&mut regions, supplied, &body);
    }
    if regions.skin.is_none() {
        warnings.push(
            "no skin colour could be sampled from the face; old sleeves are left as they are"
                .into(),
        );
    }
    timer(&mut timings, "regions", &mut t);

    // Texture at roughly the output scale, so bilinear sampling does not
    // alias (the product photo is usually 2–4× larger than the torso).
    let g_sw = garment
        .landmarks
        .shoulder_left
        .dist(garment.landmarks.shoulder_right);
    let k = ((body.sw * 1.2) / g_sw * 1.25).min(1.0);
    let tex_img = prescale(&garment.photo, &garment.mask, k);
    let gl = garment
        .landmarks
        .scaled(tex_img.0.width() as f32 / garment.photo.width() as f32);
    let kx = tex_img.0.width() as f32 / garment.photo.width() as f32;
    let branding: Vec<[f32; 4]> = garment
        .branding
        .iter()
        .map(|b| {
            [
                b[0] as f32 * kx,
                b[1] as f32 * kx,
                b[2] as f32 * kx,
                b[3] as f32 * kx,
            ]
        })
        .collect();
    let texture = build_texture(
        &tex_img.0,
        &gl,
        &branding,
        garment.dominant,
        params.branding_enhancement_weight,
    );
    timer(&mut timings, "texture", &mut t);

    // Sleeve axes from the texture's sleeve pixels.
    let (sleeve_axis, sleeve_len) = sleeve_axes(&texture.alpha, &gl);
    let warp = GarmentWarp::build(
        &gl,
        &body,
        sleeve_axis,
        sleeve_len,
        params.pose_guidance_scale,
    )
    .ok_or_else(|| {
        RenderError::Generation("the garment landmarks give a degenerate warp".into())
    })?;
    let bbox = alpha_bbox(&texture.alpha)
        .ok_or_else(|| RenderError::Garment("the garment mask is empty".into()))?;
    let alpha_ref = &texture.alpha;
    let occupied = |a: P2, d: P2| {
        let (x0, y0) = (a.x.floor().max(0.0) as u32, a.y.floor().max(0.0) as u32);
        let (x1, y1) = (
            (d.x.ceil() as u32).min(alpha_ref.w),
            (d.y.ceil() as u32).min(alpha_ref.h),
        );
        (y0..y1).any(|y| (x0..x1).any(|x| alpha_ref.get(x, y) > 0.0))
    };
    let (uv_torso, uv_sleeve) = rasterise(&warp, bbox, quality.mesh_cells(), w, h, occupied);
    timer(&mut timings, "warp", &mut t);

    // ---- Layers -----------------------------------------------------
    let sw = body.sw;
    let m = params.model_reference_strength;
    // Fabric may stand off the skin a little on the torso, more around an
    // arm (a tee's sleeve is wider than the arm it hangs on).
    let margin = ((1.2 - m) * 0.06 * sw).round().max(1.0) as u32;
    let clip = grow(&regions.person, margin).zip_with(&regions.person, f32::max);
    let sleeve_margin = ((1.2 - m) * 0.2 * sw).round().max(2.0) as u32;
    let sleeve_clip = grow(&regions.person, sleeve_margin).zip_with(&regions.person, f32::max);
    let protect_r = (m * 0.06 * sw).round() as u32;
    let protect_src = regions.face_hair.zip_with(&regions.hands, f32::max);
    let protect = grow(&protect_src, protect_r).zip_with(&protect_src, f32::max);
    let face_hair_hands = protect_src.clone();

    let photo_lin: [Plane; 3] = std::array::from_fn(|c| Plane {
        w,
        h,
        data: person
            .photo
            .pixels()
            .map(|p| srgb_lut()[p.0[c] as usize])
            .collect(),
    });
    let luma = Plane {
        w,
        h,
        data: (0..(w * h) as usize)
            .map(|i| {
                0.2126 * photo_lin[0].data[i]
                    + 0.7152 * photo_lin[1].data[i]
                    + 0.0722 * photo_lin[2].data[i]
            })
            .collect(),
    };

    let sample_layer = |uv: &UvBuffer| -> (Vec<[f32; 3]>, Plane, Plane, Plane) {
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
        (rgb, a, logo, fabric)
    };
    let (t_rgb, t_a, t_logo, t_fabric) = sample_layer(&uv_torso);
    let (s_rgb, s_a, s_logo, s_fabric) = sample_layer(&uv_sleeve);
    timer(&mut timings, "sample", &mut t);

    // Final coverage of each layer: clipped to the silhouette + margin.
    let a_torso = t_a.zip_with(&clip, |a, c| a * c);
    let a_sleeve = s_a.zip_with(&sleeve_clip, |a, c| a * c);
    let garment_cov = a_torso.zip_with(&a_sleeve, f32::max);

    // Arms in front of the torso layer: the skin-coloured arm pixels. A
    // non-skin arm pixel is an old sleeve or the old torso clothing; the new
    // garment may cover either.
    let arms_fg = regions
        .lower_arms
        .zip_with(&regions.skin_like, |a, s| a * s);
    let poly = torso_polygon(&body);
    let in_torso_poly = Plane {
        w,
        h,
        data: (0..(w * h) as usize)
            .into_par_iter()
            .map(|i| {
                let q = P2::new((i as u32 % w) as f32 + 0.5, (i as u32 / w) as f32 + 0.5);
                if point_in_polygon(q, &poly) { 1.0 } else { 0.0 }
            })
            .collect(),
    };

    // ---- Shading ----------------------------------------------------
    let shade_w = garment_cov.zip_with(&regions.person, |g, p| if g > 0.05 { p } else { 0.0 });
    let shade_w = shade_w.zip_with(&protect, |s, p| s * (1.0 - p));
    let r_big = ((0.22 * sw).round() as u32).max(2);
    let r_small = ((0.012 * sw).round() as u32).max(1);
    let mean_luma = {
        let (mut s, mut n) = (0.0f64, 0.0f64);
        for (y, wt) in luma.data.iter().zip(&shade_w.data) {
            s += (*y * wt) as f64;
            n += *wt as f64;
        }
        if n > 0.0 { (s / n) as f32 } else { 0.5 }
    }
    .max(1e-3);
    let big = masked_box_blur(&luma, &shade_w, r_big, mean_luma);
    let small = masked_box_blur(&luma, &shade_w, r_small, mean_luma);
    let normal_term = person
        .normal_map
        .as_ref()
        .filter(|n| n.dimensions() == (w, h))
        .map(|n| {
            // Lambert-like term from the body normals: the fitted body's shape
            // where the old clothing was flat.
            // Black = no body there: leave the shading alone.
            Plane {
                w,
                h,
                data: n
                    .pixels()
                    .map(|p| {
                        if p.0 == [0, 0, 0] {
                            1.0
                        } else {
                            0.8 + 0.2 * (p.0[2] as f32 / 127.5 - 1.0).max(0.0)
                        }
                    })
                    .collect(),
            }
        });
    let style = params.style_transfer_weight;
    let brand = params.branding_enhancement_weight;
    let shade_at = |i: usize, logo: f32| -> f32 {
        let fold = (small.data[i] / big.data[i].max(1e-4)).clamp(0.45, 1.5);
        let light = (big.data[i] / mean_luma).clamp(0.55, 1.45).powf(0.6);
        let normal = normal_term.as_ref().map(|n| n.data[i]).unwrap_or(1.0);
        let s_eff = style * (1.0 - 0.6 * brand * logo);
        (fold * light * normal).powf(s_eff)
    };
    timer(&mut timings, "shading", &mut t);

    // ---- Old clothing that stays visible ------------------------------
    let mut base: [Plane; 3] = photo_lin.clone();
    let mut skin_filled = 0usize;
    if let Some(skin) = regions.skin {
        let skin_lin = lab_to_linear(skin);
        // Skin brightness follows the original arm's shading, relative to
        // the arm's median brightness.
        let arm_luma: Vec<f32> = (0..(w * h) as usize)
            .filter(|&i| regions.arms.data[i] > 0.5 && regions.skin_like.data[i] > 0.5)
            .map(|i| luma.data[i])
            .collect();
        let skin_ref = median(arm_luma).unwrap_or(skin_lin.iter().sum::<f32>() / 3.0);
        let all_luma = masked_box_blur(&luma, &regions.arms, r_small.max(2), skin_ref);
        let neck = neck_zone(&body, w, h);
        let neck_light = neck_lighting(&body, w, h);
        // Decide per zone (left arm, right arm, neck) whether what shows is
        // old clothing at all: a bare arm in shade fails the pixel test here
        // and there, and must not be repainted. The zone's median
        // skin-likeness over its exposed pixels decides.
        let zone_of = |i: usize| -> Option<usize> {
            match regions.arm_side[i] {
                1 => Some(0),
                2 => Some(1),
                _ if neck.data[i] > 0.5 && regions.person.data[i] > 0.5 => Some(2),
                _ => None,
            }
        };
        let mut zone_skin: [Vec<f32>; 3] = Default::default();
        for i in 0..(w * h) as usize {
            if garment_cov.data[i] < 0.5
                && protect.data[i] < 0.5
                && let Some(z) = zone_of(i)
            {
                zone_skin[z].push(regions.skin_like.data[i]);
            }
        }
        let zone_clothed: Vec<bool> = zone_skin
            .into_iter()
            .map(|v| median(v).is_some_and(|m| m < 0.5))
            .collect();
        // An arm MediaPipe only guesses (hidden behind someone, out of
        // frame) shows something else where its capsule lies.
        let mut zone_clothed = zone_clothed;
        for (clothed, vis) in zone_clothed.iter_mut().zip(body.arm_visibility) {
            if vis < 0.3 {
                *clothed = false;
            }
        }
        for i in 0..(w * h) as usize {
            // Exposed: an arm or neck pixel the new garment does not cover.
            let zone = (regions.arms.data[i]).max(neck.data[i] * regions.person.data[i]);
            let clothed = zone_of(i).is_some_and(|z| zone_clothed[z]);
            if !clothed {
                continue;
            }
            // The neck is only shielded by the face and hair themselves,
            // not by the grown protection margin (a turtleneck under the
            // chin is old clothing).
            let shield = if regions.arm_side[i] == 0 {
                face_hair_hands.data[i]
            } else {
                protect.data[i]
            };
            let exposed = zone * (1.0 - garment_cov.data[i]) * (1.0 - shield);
            let wgt = exposed * smoothstep(0.45, 0.8, 1.0 - regions.skin_like.data[i]);
            if wgt < 0.02 {
                continue;
            }
            // Lighting of the old fabric, scaled to the skin's brightness.
            let rel = (all_luma.data[i] / skin_ref.max(1e-3)).clamp(0.45, 1.5);
            // Keep a little of the original's fine detail so the new skin
            // is not a flat cut-out.
            let detail = (luma.data[i] / all_luma.data[i].max(1e-4)).clamp(0.85, 1.15);
            // The neck sits in the chin's shadow: darker toward the top.
            let neck_shade = if regions.arm_side[i] == 0 {
                neck_light.data[i]
            } else {
                1.0
            };
            let l = rel.powf(0.7) * detail * neck_shade;
            for c in 0..3 {
                base[c].data[i] = base[c].data[i] * (1.0 - wgt) + skin_lin[c] * l * wgt;
            }
            if wgt > 0.5 {
                skin_filled += 1;
            }
        }
    }
    // Old clothing beside the new garment, outside the torso and arms, in
    // the band between shoulders and hem: background from around it.
    let mut bg_filled = 0usize;
    {
        let sh_line = body
            .shoulder_l
            .mid(body.shoulder_r)
            .minus(body.down.scale(0.05 * sw));
        let hem_line = warp
            .correspondences
            .iter()
            .find(|c| c.name == "hem_centre")
            .map(|c| c.target);
        let band_end = hem_line
            .map(|p| p.minus(sh_line).dot(body.down))
            .unwrap_or(body.torso_len);
        let mut hole = Plane::new(w, h, 0.0);
        for i in 0..(w * h) as usize {
            let p = regions.person.data[i];
            if p < 0.5 {
                continue;
            }
            let q = P2::new((i as u32 % w) as f32 + 0.5, (i as u32 / w) as f32 + 0.5);
            let v = q.minus(sh_line).dot(body.down);
            if v < 0.0 || v > band_end {
                continue;
            }
            let keep = garment_cov.data[i]
                .max(regions.arms.data[i])
                .max(protect.data[i])
                .max(in_torso_poly.data[i])
                .max(regions.skin_like.data[i]);
            if keep < 0.2 {
                hole.data[i] = 1.0;
            }
        }
        let n_hole = hole.data.iter().filter(|v| **v > 0.5).count();
        if n_hole > 0 {
            let hole = grow(&hole, 2);
            // Known background: outside the (grown) person mask.
            let person_grown = grow(&regions.person, (0.02 * sw).round().max(2.0) as u32);
            let known = person_grown.map(|p| 1.0 - p);
            let mut chans = base.clone();
            push_pull_fill(&mut chans, &known);
            for i in 0..(w * h) as usize {
                let a = hole.data[i];
                if a > 0.0 {
                    for c in 0..3 {
                        base[c].data[i] = base[c].data[i] * (1.0 - a) + chans[c].data[i] * a;
                    }
                }
            }
            bg_filled = n_hole;
        }
    }
    timer(&mut timings, "old clothing", &mut t);

    // ---- Composite ----------------------------------------------------
    let n = (w * h) as usize;
    let mut out: [Vec<f32>; 3] = std::array::from_fn(|c| base[c].data.clone());
    let mut logo_vis = vec![0.0f32; n];
    let mut final_alpha = vec![0.0f32; n];
    let mut fabric_vis = vec![0.0f32; n];
    for i in 0..n {
        let (at, as_) = (a_torso.data[i], a_sleeve.data[i]);
        if at <= 0.0 && as_ <= 0.0 {
            continue;
        }
        let mut px = [out[0][i], out[1][i], out[2][i]];
        let mut alpha = 0.0f32;
        if at > 0.0 {
            let s = shade_at(i, t_logo.data[i]);
            for c in 0..3 {
                px[c] = px[c] * (1.0 - at) + (t_rgb[i][c] * s) * at;
            }
            alpha = at;
            logo_vis[i] = t_logo.data[i];
            fabric_vis[i] = t_fabric.data[i];
        }
        // Arms in front of the torso layer.
        let af = arms_fg.data[i];
        if af > 0.0 {
            for c in 0..3 {
                px[c] = px[c] * (1.0 - af) + base[c].data[i] * af;
            }
            alpha *= 1.0 - af;
        }
        if as_ > 0.0 {
            let s = shade_at(i, s_logo.data[i]);
            for c in 0..3 {
                px[c] = px[c] * (1.0 - as_) + (s_rgb[i][c] * s) * as_;
            }
            alpha = alpha + as_ * (1.0 - alpha);
            if as_ > at {
                logo_vis[i] = s_logo.data[i];
                fabric_vis[i] = s_fabric.data[i];
            }
        }
        for c in 0..3 {
            out[c][i] = px[c];
        }
        final_alpha[i] = alpha;
    }
    // Face, hair and hands go back on top (from the base, so a repainted
    // neck under the chin stays repainted).
    for i in 0..n {
        let p = protect.data[i];
        if p > 0.0 {
            for c in 0..3 {
                out[c][i] = out[c][i] * (1.0 - p) + base[c].data[i] * p;
            }
            final_alpha[i] *= 1.0 - p;
        }
    }
    timer(&mut timings, "composite", &mut t);

    // ---- Colour matching ----------------------------------------------
    let is_fabric = |i: usize| final_alpha[i] > 0.9 && fabric_vis[i] > 0.9 && logo_vis[i] < 0.1;
    let measure = |out: &[Vec<f32>; 3], with_de: bool| -> (Lab, f32, usize) {
        // Every other fabric pixel: the means are the same to well under
        // 0.1 ΔE and it halves the CIEDE2000 work.
        let all: Vec<usize> = (0..n).filter(|&i| is_fabric(i)).collect();
        let idx: Vec<usize> = all.iter().copied().step_by(2).collect();
        let labs: Vec<Lab> = idx
            .par_iter()
            .map(|&i| srgb_to_lab(lin_to_u8([out[0][i], out[1][i], out[2][i]])))
            .collect();
        let cnt = labs.len().max(1) as f32;
        let mean = labs.iter().fold(Lab::new(0.0, 0.0, 0.0), |a, l| {
            Lab::new(a.l + l.l, a.a + l.a, a.b + l.b)
        });
        let mean = Lab::new(mean.l / cnt, mean.a / cnt, mean.b / cnt);
        let de = if with_de {
            labs.par_iter()
                .map(|l| delta_e2000(*l, garment.dominant))
                .sum::<f32>()
                / cnt
        } else {
            0.0
        };
        (mean, de, all.len())
    };
    let (mean_before, _, _) = measure(&out, false);
    let cmw = params.color_matching_weight;
    let shift = Lab::new(
        (garment.dominant.l - mean_before.l) * cmw,
        (garment.dominant.a - mean_before.a) * cmw,
        (garment.dominant.b - mean_before.b) * cmw,
    );
    if cmw > 0.0 && (shift.l.abs() + shift.a.abs() + shift.b.abs()) > 0.05 {
        let updates: Vec<(usize, [f32; 3])> = (0..n)
            .into_par_iter()
            .filter(|&i| final_alpha[i] > 0.0)
            .map(|i| {
                // Prints keep their own colours; only the fabric is pulled.
                let wgt = final_alpha[i] * (1.0 - logo_vis[i]) * fabric_vis[i].max(0.3);
                let l = srgb_to_lab(lin_to_u8([out[0][i], out[1][i], out[2][i]]));
                let moved = Lab::new(
                    l.l + shift.l * wgt,
                    l.a + shift.a * wgt,
                    l.b + shift.b * wgt,
                );
                (i, lab_to_linear(moved))
            })
            .collect();
        for (i, c) in updates {
            for k in 0..3 {
                out[k][i] = c[k];
            }
        }
    }
    let (mean_after, de_after, fabric_px) = measure(&out, true);
    timer(&mut timings, "colour", &mut t);

    // ---- Output and metrics ---------------------------------------------
    let mut image = RgbaImage::new(w, h);
    for (i, p) in image.pixels_mut().enumerate() {
        let a = person.photo.as_raw()[i * 4 + 3];
        let c = lin_to_u8([out[0][i], out[1][i], out[2][i]]);
        // Untouched pixels keep their exact original value (no round-trip
        // drift), which keeps face/hand pixels identical.
        let orig = person.photo.get_pixel(i as u32 % w, i as u32 / w).0;
        let touched =
            final_alpha[i] > 0.0 || (0..3).any(|k| base[k].data[i] != photo_lin[k].data[i]);
        p.0 = if touched { [c[0], c[1], c[2], a] } else { orig };
    }
    let alpha_plane = Plane {
        w,
        h,
        data: final_alpha,
    };
    let upper = &regions.torso;
    let (mut inter, mut uni, mut upper_n) = (0usize, 0usize, 0usize);
    for i in 0..n {
        let a = alpha_plane.data[i] > 0.5;
        let b = upper.data[i] > 0.5;
        inter += (a && b) as usize;
        uni += (a || b) as usize;
        upper_n += b as usize;
    }
    let iou = if uni > 0 {
        inter as f32 / uni as f32
    } else {
        0.0
    };
    let (face_px, face_changed) = face_hand_change(
        &person.photo,
        &image,
        &regions_face_hands(&body, &regions, w, h),
    );
    let stats = RenderStats {
        base_fabric_delta_e: de_after,
        base_fabric_mean_delta_e: delta_e2000(mean_after, garment.dominant),
        base_fabric_pixels: fabric_px,
        garment_pixels: alpha_plane.data.iter().filter(|a| **a > 0.5).count(),
        upper_garment_iou: iou,
        upper_garment_coverage: if upper_n > 0 {
            inter as f32 / upper_n as f32
        } else {
            0.0
        },
        upper_garment_source: if person.regions.is_some() {
            "upper-garment region of the supplied segmentation".into()
        } else {
            "torso polygon (shoulders to hips, from landmarks) inside the person mask".into()
        },
        face_hand_pixels: face_px,
        face_hand_pixels_changed: face_changed,
        skin_filled_pixels: skin_filled,
        background_filled_pixels: bg_filled,
        regions_source: regions.source.to_string(),
        timings_ms: {
            timer(&mut timings, "output", &mut t);
            timings
        },
    };
    let overlay = regions_overlay(&person.photo, &regions, &alpha_plane);
    let detail = RenderDetail {
        garment_alpha: alpha_plane.to_gray(),
        regions_overlay: overlay,
        sleeve_rotation_deg: warp.sleeve_rotation.map(f32::to_degrees),
        // Reported in product-photo pixels, as the garment analysis gives them.
        correspondences: warp
            .correspondences
            .iter()
            .map(|c| Correspondence {
                garment: c.garment.scale(1.0 / kx),
                ..c.clone()
            })
            .collect(),
        body,
        stats,
        warnings,
    };
    Ok(RenderOutput { image, detail })
}

/// Linear → 8-bit sRGB through a 4096-entry table (the exact curve costs a
/// `powf` per channel, and this runs on every output pixel).
fn lin_to_u8(c: [f32; 3]) -> [u8; 3] {
    static LUT: std::sync::OnceLock<Vec<u8>> = std::sync::OnceLock::new();
    let lut = LUT.get_or_init(|| {
        (0..4096)
            .map(|i| (to_srgb(i as f32 / 4095.0) * 255.0 + 0.5) as u8)
            .collect()
    });
    c.map(|v| lut[(v.clamp(0.0, 1.0) * 4095.0 + 0.5) as usize])
}

fn lab_to_linear(l: Lab) -> [f32; 3] {
    lab_to_srgb(l).map(|v| srgb_lut()[v as usize])
}

fn median(mut v: Vec<f32>) -> Option<f32> {
    if v.is_empty() {
        return None;
    }
    v.sort_by(f32::total_cmp);
    Some(v[v.len() / 2])
}

/// Resizes the product photo and mask by `k` (≤ 1) with a proper
/// reconstruction filter; alpha = photo alpha × mask.
fn prescale(photo: &RgbaImage, mask: &GrayImage, k: f32) -> (RgbaImage, GrayImage) {
    // The mask is folded into the alpha channel; the returned mask is only
    // kept at full size when no scaling happens (callers use the alpha).
    let mut rgba = photo.clone();
    for (p, m) in rgba.pixels_mut().zip(mask.pixels()) {
        p.0[3] = ((p.0[3] as u16 * m.0[0] as u16) / 255) as u8;
    }
    if k >= 0.95 {
        return (rgba, mask.clone());
    }
    let (nw, nh) = (
        ((photo.width() as f32 * k).round() as u32).max(8),
        ((photo.height() as f32 * k).round() as u32).max(8),
    );
    // Premultiply so transparent pixels' colours do not bleed into edges.
    let mut pre = rgba.clone();
    for p in pre.pixels_mut() {
        let a = p.0[3] as u16;
        for c in 0..3 {
            p.0[c] = ((p.0[c] as u16 * a) / 255) as u8;
        }
    }
    let mut small = image::imageops::resize(&pre, nw, nh, FilterType::Triangle);
    for p in small.pixels_mut() {
        let a = p.0[3] as u16;
        for c in 0..3 {
            if let Some(v) = (p.0[c] as u16 * 255 + a / 2).checked_div(a) {
                p.0[c] = v.min(255) as u8;
            }
        }
    }
    (small, GrayImage::new(0, 0))
}

fn build_texture(
    img: &RgbaImage,
    gl: &crate::garment::GarmentLandmarks,
    branding: &[[f32; 4]],
    dominant: Lab,
    brand: f32,
) -> Texture {
    let (w, h) = img.dimensions();
    let mut alpha = Plane {
        w,
        h,
        data: img.pixels().map(|p| p.0[3] as f32 / 255.0).collect(),
    };
    // The back of the neckline (seen through the neck hole in a flat lay)
    // would cover the wearer's neck: cut the hole open above the front
    // collar, leaving the collar band.
    let g_sw = gl.shoulder_left.dist(gl.shoulder_right);
    let band = 0.035 * g_sw;
    let (nl, nr, cc) = (gl.neck_left, gl.neck_right, gl.collar_centre);
    let curve = |x: f32| {
        // Parabola through the three collar points (vertex at the centre).
        let side = if x < cc.x { nl } else { nr };
        let dx = side.x - cc.x;
        if dx.abs() < 1.0 {
            return cc.y;
        }
        cc.y + (side.y - cc.y) * ((x - cc.x) / dx).powi(2)
    };
    if nl.x < nr.x && cc.y > nl.y.min(nr.y) {
        for y in 0..h {
            for x in (nl.x.max(0.0) as u32)..(nr.x.min(w as f32) as u32) {
                let (fx, fy) = (x as f32 + 0.5, y as f32 + 0.5);
                let top = curve(fx) - band;
                if fy < top {
                    let i = alpha.idx(x, y);
                    // Soft edge over ~2 texels.
                    alpha.data[i] *= smoothstep(-2.0, 0.0, fy - top);
                }
            }
        }
    }
    // Branding: soft box weights.
    let mut logo = Plane::new(w, h, 0.0);
    for b in branding {
        let pad = 0.02 * g_sw;
        let (x0, y0, x1, y1) = (b[0] - pad, b[1] - pad, b[0] + b[2] + pad, b[1] + b[3] + pad);
        for y in (y0.max(0.0) as u32)..(y1.min(h as f32).max(0.0) as u32) {
            for x in (x0.max(0.0) as u32)..(x1.min(w as f32).max(0.0) as u32) {
                let (fx, fy) = (x as f32 + 0.5, y as f32 + 0.5);
                let edge = (fx - x0).min(x1 - fx).min(fy - y0).min(y1 - fy);
                let i = logo.idx(x, y);
                logo.data[i] = logo.data[i].max(smoothstep(0.0, pad.max(1.0), edge));
            }
        }
    }
    let lin: [Plane; 3] = std::array::from_fn(|c| Plane {
        w,
        h,
        data: img.pixels().map(|p| srgb_lut()[p.0[c] as usize]).collect(),
    });
    // Unsharp mask on the logos: amount = branding weight.
    let lin = if brand > 0.0 && logo.data.iter().any(|v| *v > 0.0) {
        let blurred: Vec<Plane> = lin.iter().map(|p| crate::plane::box_blur(p, 1)).collect();
        std::array::from_fn(|c| Plane {
            w,
            h,
            data: (0..(w * h) as usize)
                .map(|i| {
                    let amt = 0.8 * brand * logo.data[i];
                    (lin[c].data[i] + amt * (lin[c].data[i] - blurred[c].data[i])).clamp(0.0, 1.0)
                })
                .collect(),
        })
    } else {
        lin
    };
    // Plain-fabric weight at half resolution: it only weighs the colour
    // correction and selects the pixels the ΔE report measures, and
    // CIEDE2000 per texel is the texture's largest cost.
    let (hw, hh) = (w.div_ceil(2), h.div_ceil(2));
    let fabric = Plane {
        w: hw,
        h: hh,
        data: (0..(hw * hh) as usize)
            .into_par_iter()
            .map(|i| {
                let (x, y) = ((i as u32 % hw) * 2, (i as u32 / hw) * 2);
                let p = img.get_pixel(x.min(w - 1), y.min(h - 1)).0;
                if p[3] == 0 {
                    return 0.0;
                }
                let l = srgb_to_lab([p[0], p[1], p[2]]);
                let d =
                    delta_e2000_weighted(l, dominant, garmax_vision::branding::SHADING_TOLERANT);
                1.0 - smoothstep(6.0, 9.0, d)
            })
            .collect(),
    };
    let rgb = std::array::from_fn(|c| lin[c].zip_with(&alpha, |v, a| v * a));
    Texture {
        rgb,
        alpha,
        logo,
        fabric,
    }
}

/// Direction and length of each sleeve in texture pixels, from the
/// garment pixels outside its shoulder–armpit line.
fn sleeve_axes(alpha: &Plane, gl: &crate::garment::GarmentLandmarks) -> ([P2; 2], [f32; 2]) {
    let mut axis = [P2::new(-0.6, 0.8), P2::new(0.6, 0.8)];
    let mut len = [
        gl.shoulder_left.dist(gl.armpit_left),
        gl.shoulder_right.dist(gl.armpit_right),
    ];
    for s in 0..2 {
        let (sh, ap) = (gl.shoulders()[s], gl.armpits()[s]);
        let (mut sx, mut sy, mut cnt) = (0.0f64, 0.0f64, 0.0f64);
        let mut pts = Vec::new();
        for y in 0..alpha.h {
            for x in 0..alpha.w {
                if alpha.get(x, y) < 0.5 {
                    continue;
                }
                let q = P2::new(x as f32 + 0.5, y as f32 + 0.5);
                if sleeve_side(q, sh, ap, s) > 1.0 {
                    sx += q.x as f64;
                    sy += q.y as f64;
                    cnt += 1.0;
                    pts.push(q);
                }
            }
        }
        if cnt > 10.0 {
            let c = P2::new((sx / cnt) as f32, (sy / cnt) as f32);
            let d = c.minus(sh).unit_or(axis[s]);
            axis[s] = d;
            len[s] = pts
                .iter()
                .map(|q| q.minus(sh).dot(d))
                .fold(0.0f32, f32::max)
                .max(1.0);
        }
    }
    (axis, len)
}

fn alpha_bbox(alpha: &Plane) -> Option<[f32; 4]> {
    let (mut x0, mut y0, mut x1, mut y1) = (u32::MAX, u32::MAX, 0, 0);
    for y in 0..alpha.h {
        for x in 0..alpha.w {
            if alpha.get(x, y) > 0.0 {
                x0 = x0.min(x);
                y0 = y0.min(y);
                x1 = x1.max(x + 1);
                y1 = y1.max(y + 1);
            }
        }
    }
    (x0 < x1 && y0 < y1).then_some([x0 as f32, y0 as f32, x1 as f32, y1 as f32])
}

/// The neck: below the face, above the shoulder line, about a third of a
/// shoulder width wide.
fn neck_zone(body: &BodyFrame, w: u32, h: u32) -> Plane {
    let mut p = Plane::new(w, h, 0.0);
    let top = body.face_centre;
    let bottom = body
        .shoulder_l
        .mid(body.shoulder_r)
        .plus(body.down.scale(0.1 * body.sw));
    let half = 0.17 * body.sw;
    let len = bottom.minus(top).dot(body.down);
    for y in 0..h {
        for x in 0..w {
            let q = P2::new(x as f32 + 0.5, y as f32 + 0.5);
            let d = q.minus(top);
            let (u, v) = (d.dot(body.across), d.dot(body.down));
            // Below the face's middle (the chin itself is shielded as face
            // where it is skin).
            let below_face_mid = d.dot(body.down) > 0.45 * body.face_r[1];
            if v > 0.0
                && v < len
                && u.abs() < half
                && (below_face_mid || body.in_face(q, 1.0) >= 1.0)
            {
                let i = p.idx(x, y);
                p.data[i] = 1.0 - smoothstep(half * 0.6, half, u.abs());
            }
        }
    }
    p
}

/// Brightness factor of repainted neck skin: 0.6 under the chin rising to 1
/// at the collar line.
fn neck_lighting(body: &BodyFrame, w: u32, h: u32) -> Plane {
    let top = body.face_centre.plus(body.down.scale(body.face_r[1]));
    let bottom = body.shoulder_l.mid(body.shoulder_r);
    let len = bottom.minus(top).dot(body.down).max(1.0);
    Plane {
        w,
        h,
        data: (0..(w * h) as usize)
            .map(|i| {
                let q = P2::new((i as u32 % w) as f32 + 0.5, (i as u32 / w) as f32 + 0.5);
                let t = (q.minus(top).dot(body.down) / len).clamp(0.0, 1.0);
                0.6 + 0.4 * smoothstep(0.0, 0.8, t)
            })
            .collect(),
    }
}

/// The face (ellipse ∩ face region) and hand discs inside the person mask,
/// un-grown: the pixels whose change the report counts.
fn regions_face_hands(body: &BodyFrame, regions: &Regions, w: u32, h: u32) -> Vec<usize> {
    let mut idx = Vec::new();
    for y in 0..h {
        for x in 0..w {
            let i = (y * w + x) as usize;
            if regions.person.data[i] < 0.5 {
                continue;
            }
            let q = P2::new(x as f32 + 0.5, y as f32 + 0.5);
            // As segmented: the face ellipse where it was judged face (not a
            // collar under the chin), the hand discs.
            let face = body.in_face(q, 0.9) < 1.0 && regions.face_hair.data[i] > 0.5;
            let hand = body.hands.iter().any(|(c, r)| q.dist(*c) < 0.8 * r);
            if face || hand {
                idx.push(i);
            }
        }
    }
    idx
}

fn face_hand_change(a: &RgbaImage, b: &RgbaImage, idx: &[usize]) -> (usize, usize) {
    let (ra, rb) = (a.as_raw(), b.as_raw());
    let changed = idx
        .iter()
        .filter(|&&i| (0..3).any(|c| (ra[i * 4 + c] as i16 - rb[i * 4 + c] as i16).abs() > 2))
        .count();
    (idx.len(), changed)
}

/// The person photo tinted by region: garment red, face/hair yellow, hands
/// magenta, arms cyan, torso outline blue — for checking occlusion by eye.
fn regions_overlay(photo: &RgbaImage, regions: &Regions, garment: &Plane) -> image::RgbImage {
    let (w, h) = photo.dimensions();
    let mut img = image::RgbImage::new(w, h);
    for (i, p) in img.pixels_mut().enumerate() {
        let o = photo.as_raw();
        let base = [o[i * 4] as f32, o[i * 4 + 1] as f32, o[i * 4 + 2] as f32];
        let layers = [
            (regions.torso.data[i] * 0.3, [40.0, 80.0, 255.0]),
            (garment.data[i] * 0.5, [255.0, 40.0, 40.0]),
            (regions.arms.data[i] * 0.5, [0.0, 230.0, 230.0]),
            (regions.hands.data[i] * 0.6, [255.0, 0.0, 255.0]),
            (regions.face_hair.data[i] * 0.5, [255.0, 230.0, 0.0]),
        ];
        let mut c = base;
        for (a, col) in layers {
            for k in 0..3 {
                c[k] = c[k] * (1.0 - a) + col[k] * a;
            }
        }
        p.0 = c.map(|v| v.clamp(0.0, 255.0) as u8);
    }
    img
}
