//! The local renderer: a sequence of named stages, each a module with its
//! own tests —
//!
//! 1. [`scene`](prepare_scene): the inputs checked, the body frame and the
//!    regions (face, hair, hands, arms, torso, skin) read from them;
//! 2. [`texture`]: the product resampled and prepared as a texture;
//! 3. [`placement`]: the warp onto the body, rasterised, the texture
//!    sampled per garment part;
//! 4. [`occlusion`]: what stays in front, the silhouette clip;
//! 5. [`shading`]: the person's light and folds under the garment;
//! 6. [`removal`]: old clothing the new garment does not cover replaced by
//!    skin or background;
//! 7. [`composite`]: the layers in depth order, then colour matching;
//! 8. [`report`]: the 8-bit image and the measurements.

use std::time::Instant;

use garmax_core::product_map::ProductMap;
use garmax_vision::color::delta_e2000;
use image::GrayImage;
use serde::Serialize;

use crate::error::RenderError;
use crate::garment::{GarmentFit, GarmentInput};
use crate::legs::LegFrame;
use crate::params::{RenderParams, RenderQuality};
use crate::person::{BodyFrame, PersonInput, Regions, apply_supplied, derive_regions};
use crate::plane::Plane;
use crate::provider::{RenderOutput, RenderProvider, RenderRequest};
use crate::warp::Correspondence;

pub mod color;
pub mod composite;
pub mod occlusion;
pub mod placement;
pub mod removal;
pub mod report;
pub mod shading;
#[cfg(test)]
pub(crate) mod test_scene;
pub mod texture;

use color::LinearPhoto;
use composite::{Placed as PlacedLayer, composite, match_colour};
use occlusion::{clip_layers, occlusion};
use placement::{Placement, product_map, sample_layer, warp_bottom, warp_upper};
use removal::{Band, background_holes, fill_background, repaint_skin};
use shading::Shading;
use texture::GarmentTexture;

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
    /// Dresses and bottoms: the fraction of the legs between the hips and
    /// the new hem (leg capsules inside the person mask, arms and hands in
    /// front left out) that the garment covers.
    pub lower_body_coverage: Option<f32>,
    /// Pixels of the face and hands (unprotected definition: the face
    /// ellipse and hand discs inside the person mask) that changed by more
    /// than 2 levels, and their count.
    pub face_hand_pixels: usize,
    pub face_hand_pixels_changed: usize,
    /// Pixels of old clothing replaced by skin / by background.
    pub skin_filled_pixels: usize,
    pub background_filled_pixels: usize,
    /// The photo's clothing between the new garment's top and hem, and of
    /// it the pixels left visible beside the new garment
    /// ([`report::old_clothing_left`]).
    pub old_clothing_pixels: usize,
    pub old_clothing_visible: usize,
    pub regions_source: String,
    pub timings_ms: Vec<(String, f64)>,
}

/// Everything a render produces besides the image.
#[derive(Clone)]
pub struct RenderDetail {
    pub garment_alpha: GrayImage,
    pub regions_overlay: image::RgbImage,
    pub body: BodyFrame,
    /// The legs (dresses and bottoms).
    pub legs: Option<LegFrame>,
    pub correspondences: Vec<Correspondence>,
    /// Which product pixel each pixel shows (the garment as placed, before
    /// occlusion); `None` when the image is not this renderer's (a remote
    /// provider's image over the local geometry).
    pub product_map: Option<ProductMap>,
    pub sleeve_rotation_deg: [f32; 2],
    pub stats: RenderStats,
    pub warnings: Vec<String>,
}

/// Wall-clock time per stage, for the report.
struct StageClock {
    timings: Vec<(String, f64)>,
    t: Instant,
}

impl StageClock {
    fn start() -> StageClock {
        StageClock {
            timings: Vec::new(),
            t: Instant::now(),
        }
    }

    /// Records the time since the last lap as stage `name`.
    fn lap(&mut self, name: &str) {
        self.timings
            .push((name.to_string(), self.t.elapsed().as_secs_f64() * 1000.0));
        self.t = Instant::now();
    }
}

/// The person as the stages see it.
pub struct Scene {
    pub body: BodyFrame,
    pub regions: Regions,
    pub warnings: Vec<String>,
}

/// Stage 1: checks the inputs agree in size and show a person, reads the
/// body frame from the landmarks and derives the regions (or takes the
/// supplied segmentation).
pub fn prepare_scene(person: &PersonInput, garment: &GarmentInput) -> Result<Scene, RenderError> {
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
    Ok(Scene {
        body,
        regions,
        warnings,
    })
}

/// The placed garment, whatever its fit.
struct Placed {
    uv_main: crate::warp::UvBuffer,
    uv_sleeves: crate::warp::UvBuffer,
    /// Reported in texture pixels; converted for the report.
    correspondences: Vec<Correspondence>,
    sleeve_rotation: [f32; 2],
    /// The hem's centre (tops and dresses), where the background fill
    /// beside the torso ends.
    hem: Option<crate::geometry::P2>,
    /// Where each leg's hem falls along its axis (dresses and bottoms).
    hem_t: Option<[f32; 2]>,
    /// A skirt's or dress's outline on the body: the fabric may hang
    /// across the gap between the legs inside it.
    envelope: Option<Vec<crate::geometry::P2>>,
}

/// Stage 3 for every fit: warps and rasterises the garment.
fn place(
    tex: &GarmentTexture,
    body: &BodyFrame,
    legs: Option<&LegFrame>,
    pose_guidance: f32,
    quality: RenderQuality,
    (w, h): (u32, u32),
) -> Result<Placed, RenderError> {
    match (&tex.fit, legs) {
        (GarmentFit::Top(gl), _) => {
            let (warp, uv_main, uv_sleeves) =
                warp_upper(tex, gl, body, pose_guidance, None, quality, w, h)?;
            Ok(Placed::from_upper(warp, uv_main, uv_sleeves, None))
        }
        (GarmentFit::Dress(gl), Some(legs)) => {
            let hem = placement::dress_hem(gl, body, legs);
            let (warp, uv_main, uv_sleeves) = warp_upper(
                tex,
                gl,
                body,
                pose_guidance,
                Some(hem.corners),
                quality,
                w,
                h,
            )?;
            Ok(Placed::from_upper(warp, uv_main, uv_sleeves, Some(hem)))
        }
        (GarmentFit::Bottom(b), Some(legs)) => {
            let (warp, uv_main) = warp_bottom(tex, b, legs, pose_guidance, quality, w, h)?;
            let skirt = b.legs.is_none();
            Ok(Placed {
                uv_main,
                uv_sleeves: crate::warp::UvBuffer::new(w, h),
                correspondences: warp.correspondences,
                sleeve_rotation: [0.0; 2],
                hem: None,
                hem_t: Some(warp.hem_t),
                envelope: skirt.then_some(warp.outline),
            })
        }
        (_, None) => Err(RenderError::Generation(
            "a dress or bottom needs the legs' frame".into(),
        )),
    }
}

impl Placed {
    fn from_upper(
        warp: crate::warp::GarmentWarp,
        uv_main: crate::warp::UvBuffer,
        uv_sleeves: crate::warp::UvBuffer,
        dress: Option<placement::DressHem>,
    ) -> Placed {
        let hem = warp
            .correspondences
            .iter()
            .find(|c| c.name == "hem_centre")
            .map(|c| c.target);
        Placed {
            uv_main,
            uv_sleeves,
            correspondences: warp.correspondences,
            sleeve_rotation: warp.sleeve_rotation,
            hem,
            hem_t: dress.as_ref().map(|d| d.t),
            envelope: dress.map(|d| d.envelope),
        }
    }
}

/// Renders `garment` onto `person` with `params`.
pub fn render_local(
    person: &PersonInput,
    garment: &GarmentInput,
    params: &RenderParams,
    quality: RenderQuality,
) -> Result<RenderOutput, RenderError> {
    let params = params.clamped();
    let mut clock = StageClock::start();
    let Scene {
        body,
        regions,
        mut warnings,
    } = prepare_scene(person, garment)?;
    let (w, h) = person.photo.dimensions();
    let bottom = matches!(garment.fit, GarmentFit::Bottom(_));
    let legs = match garment.fit {
        GarmentFit::Top(_) => None,
        GarmentFit::Dress(_) | GarmentFit::Bottom(_) => {
            let legs = LegFrame::from_landmarks(&person.landmarks, &body, &regions.person)?;
            warnings.extend(legs.warnings.iter().cloned());
            Some(legs)
        }
    };
    clock.lap("regions");

    let body_width = match &legs {
        Some(l) if bottom => l.waist[0].dist(l.waist[1]),
        _ => body.sw * 1.2,
    };
    let tex = GarmentTexture::prepare(garment, body_width, params.branding_enhancement_weight);
    clock.lap("texture");

    let mut placed = place(
        &tex,
        &body,
        legs.as_ref(),
        params.pose_guidance_scale,
        quality,
        (w, h),
    )?;
    clock.lap("warp");

    if regions.arms_exact {
        placement::wrap_sleeves(
            &mut placed.uv_sleeves,
            &regions.lower_arms,
            &regions.hands,
            &body,
        );
    }
    let photo = LinearPhoto::from_rgba(&person.photo);
    let placement = Placement {
        torso: sample_layer(&tex.texture, &placed.uv_main),
        sleeves: sample_layer(&tex.texture, &placed.uv_sleeves),
    };
    let map = product_map(&placement, &placed.uv_main, &placed.uv_sleeves, tex.scale);
    clock.lap("sample");

    let mut occ = occlusion(&regions, &body, params.model_reference_strength);
    if legs.is_some() {
        occlusion::protect_skin_hands(&mut occ, &regions, &body, params.model_reference_strength);
    }
    if bottom {
        occ.arms_front = occlusion::in_front_of_bottom(&regions);
    }
    occlusion::refine_arms_front(&mut occ, &photo.rgb, &body, regions.arms_exact);
    if let Some(envelope) = &placed.envelope {
        occlusion::widen_clip(&mut occ.clip, envelope);
    }
    let cov = clip_layers(&placement, &occ);
    let shading = Shading::estimate(
        &photo.luma,
        &cov.garment,
        &regions.person,
        &occ.protect,
        person.normal_map.as_ref(),
        body.sw,
        params.style_transfer_weight,
        params.branding_enhancement_weight,
    );
    clock.lap("shading");

    let mut base = photo.rgb.clone();
    let mut skin_filled = 0;
    if !bottom {
        skin_filled += repaint_skin(
            &mut base,
            &regions,
            &body,
            &photo.luma,
            &cov.garment,
            &occ.protect,
            &occ.face_hair_hands,
        );
    }
    if let (Some(legs), Some(hem_t)) = (&legs, placed.hem_t) {
        skin_filled += removal::repaint_legs(
            &mut base,
            &regions,
            legs,
            hem_t,
            &photo.luma,
            &cov.garment,
            &occ.protect,
        );
    }
    let (band, keep) = match (&legs, placed.hem_t) {
        (Some(legs), Some(hem_t)) if bottom => (
            Band::below_waist(legs, h),
            removal::bottom_keep(&regions, &cov.garment, &occ.protect, legs, hem_t),
        ),
        _ => (
            Band::upper_body(&body, placed.hem),
            upper_body_keep(&regions, &cov.garment, &occ),
        ),
    };
    let holes = background_holes(&regions.person, &keep, band);
    let bg_filled = fill_background(&mut base, &regions.person, &holes, body.sw);
    clock.lap("old clothing");

    let mut comp = composite(
        &base,
        PlacedLayer {
            layer: &placement.torso,
            coverage: &cov.torso,
        },
        &occ.arms_front,
        PlacedLayer {
            layer: &placement.sleeves,
            coverage: &cov.sleeves,
        },
        &shading,
        &occ.protect,
    );
    clock.lap("composite");

    let fabric = match_colour(&mut comp, garment.dominant, params.color_matching_weight);
    clock.lap("colour");

    let image = report::to_image(&person.photo, &comp, &base, &photo.rgb);
    let alpha_plane = Plane {
        w,
        h,
        data: comp.alpha,
    };
    let (iou, coverage) = report::overlap(&alpha_plane, &regions.torso);
    let (face_px, face_changed) = report::face_hand_change(
        &person.photo,
        &image,
        &report::regions_face_hands(&body, &regions, legs.is_some(), w, h),
    );
    let (old_clothing_pixels, old_clothing_visible) =
        report::old_clothing_left(&person.photo, &image, &regions, &body, &alpha_plane);
    let lower_body_coverage = match (&legs, placed.hem_t) {
        (Some(legs), Some(hem_t)) => Some(report::leg_coverage(
            &alpha_plane,
            &regions.person,
            &occ,
            legs,
            hem_t,
        )),
        _ => None,
    };
    let stats = RenderStats {
        base_fabric_delta_e: fabric.delta_e,
        base_fabric_mean_delta_e: delta_e2000(fabric.mean, garment.dominant),
        base_fabric_pixels: fabric.pixels,
        garment_pixels: alpha_plane.data.iter().filter(|a| **a > 0.5).count(),
        upper_garment_iou: iou,
        upper_garment_coverage: coverage,
        upper_garment_source: if person.regions.is_some() {
            "upper-garment region of the supplied segmentation".into()
        } else {
            "torso polygon (shoulders to hips, from landmarks) inside the person mask".into()
        },
        lower_body_coverage,
        face_hand_pixels: face_px,
        face_hand_pixels_changed: face_changed,
        skin_filled_pixels: skin_filled,
        background_filled_pixels: bg_filled,
        old_clothing_pixels,
        old_clothing_visible,
        regions_source: regions.source.to_string(),
        timings_ms: {
            clock.lap("output");
            clock.timings
        },
    };
    let overlay = report::regions_overlay(&person.photo, &regions, &alpha_plane);
    let kx = tex.scale;
    let detail = RenderDetail {
        garment_alpha: alpha_plane.to_gray(),
        regions_overlay: overlay,
        sleeve_rotation_deg: placed.sleeve_rotation.map(f32::to_degrees),
        // Reported in product-photo pixels, as the garment analysis gives them.
        correspondences: placed
            .correspondences
            .iter()
            .map(|c| Correspondence {
                garment: c.garment.scale(1.0 / kx),
                ..c.clone()
            })
            .collect(),
        product_map: Some(map),
        body,
        legs,
        stats,
        warnings,
    };
    Ok(RenderOutput { image, detail })
}

/// What the background fill beside an upper-body garment must not touch:
/// the new garment, the arms, the protected face/hair/hands, the torso and
/// anything skin-coloured.
fn upper_body_keep(regions: &Regions, coverage: &Plane, occ: &occlusion::Occlusion) -> Plane {
    let n = coverage.data.len();
    Plane {
        w: coverage.w,
        h: coverage.h,
        data: (0..n)
            .map(|i| {
                coverage.data[i]
                    .max(regions.arms.data[i])
                    .max(occ.protect.data[i])
                    .max(occ.in_torso.data[i])
                    .max(regions.skin_like.data[i])
            })
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use garmax_core::{Coded, ErrorCode};

    #[test]
    fn the_scene_stage_reads_the_body_and_refuses_mismatched_inputs() {
        let person = test_scene::person();
        let garment = test_scene::garment(garmax_vision::shape::GarmentType::Tshirt, 11);
        let scene = prepare_scene(&person, &garment).unwrap();
        assert!((scene.body.sw - 72.0).abs() < 1e-3);
        assert!(scene.regions.skin.is_some(), "skin sampled from the face");
        let mut small_mask = person.clone();
        small_mask.mask = image::GrayImage::new(10, 10);
        assert_eq!(
            prepare_scene(&small_mask, &garment).err().map(|e| e.code()),
            Some(ErrorCode::GenerationFailed)
        );
        let mut empty = person.clone();
        empty.mask.pixels_mut().for_each(|p| p.0[0] = 0);
        assert_eq!(
            prepare_scene(&empty, &garment).err().map(|e| e.code()),
            Some(ErrorCode::NoPersonFound)
        );
    }

    #[test]
    fn the_stages_together_dress_the_synthetic_person() {
        let person = test_scene::person();
        let garment = test_scene::garment(garmax_vision::shape::GarmentType::Tshirt, 11);
        let out = render_local(
            &person,
            &garment,
            &RenderParams::default(),
            RenderQuality::Sd,
        )
        .unwrap();
        let s = &out.detail.stats;
        assert_eq!(s.face_hand_pixels_changed, 0);
        assert!(
            s.upper_garment_coverage > 0.8,
            "{}",
            s.upper_garment_coverage
        );
        let names: Vec<&str> = s.timings_ms.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(
            names,
            [
                "regions",
                "texture",
                "warp",
                "sample",
                "shading",
                "old clothing",
                "composite",
                "colour",
                "output"
            ]
        );
    }
}
