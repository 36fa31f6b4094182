//! Try-on rendering for garmax: the [`RenderProvider`] interface and the
//! offline [`LocalRenderer`] (provider name `local`), the embedded default
//! and the last fallback of the failover chain.
//!
//! The local renderer places an analysed garment on a person photo: tops
//! (tee, polo, shirt, hoodie, sweater, jacket), dresses, and bottoms
//! (skirt, shorts, pants) placed on the legs ([`legs::LegFrame`], BlazePose
//! hips, knees and ankles) with their own warp ([`warp::BottomWarp`]). For
//! a top:
//!
//! 1. **Correspondences** from the garment's landmarks (collar, neck,
//!    shoulders, armpits, sleeve ends, hem) to body points derived from the
//!    BlazePose landmarks ([`warp::GarmentWarp`]).
//! 2. **Warp**: a thin-plate spline for the torso, a rotation about each
//!    shoulder for the sleeves (blended into the spline near the seam), as a
//!    forward mesh rasterised at the photo's resolution.
//! 3. **Occlusion**: face, hair and hands stay in front, arms stay in front
//!    of the torso (a drawn body's part map is the depth order; a photo's
//!    arm edge is refined on the photo by a guided filter, [`matte`]),
//!    everything is clipped to the silhouette plus a small fabric margin.
//! 4. **Old clothing** the new garment no longer covers is replaced: skin
//!    (sampled from the face) on arms and neck, background inpainting beside
//!    the torso.
//! 5. **Shading** from the original clothing's luminance (ratio to its
//!    local mean, plus the large-scale light fall-off), then **colour
//!    matching** back toward the product's dominant colour; logos are
//!    sharpened and shaded less.
//!
//! A dress is a top whose hem falls at its length over the legs; a bottom
//! is one layer from the waist down, with hands and forearms in front and
//! bare legs repainted below its hem.
//!
//! `render_local` runs these as named stages, one module each under
//! [`render`] (scene, texture, placement, occlusion, shading, removal,
//! composite, report), each with its own tests.
//!
//! The inputs are plain data ([`PersonInput`], [`GarmentInput`]) so any
//! person analysis can feed the renderer; it does no I/O. The five knobs of
//! the seed's adaptive retry are [`RenderParams`]; personas and stage 1 of
//! the two-stage generation are in [`persona`].

pub mod error;
pub mod fixtures;
pub mod garment;
pub mod geometry;
pub mod legs;
pub mod matte;
pub mod params;
pub mod person;
pub mod persona;
pub mod plane;
pub mod provider;
pub mod render;
pub mod sheet;
pub mod warp;

pub use error::RenderError;
pub use garment::{BottomKind, BottomLandmarks, GarmentFit, GarmentInput, GarmentLandmarks};
pub use params::{QualitySettings, QualityTier, RenderParams, RenderQuality, TierThresholds};
pub use person::{BodyFrame, ClothingRegions, PersonInput};
pub use persona::{Persona, PersonaCatalog, Stage1Source};
pub use provider::{ProviderAttempt, RenderOutput, RenderProvider, RenderRequest, provider};
pub use render::{LocalRenderer, RenderDetail, RenderStats, render_local};
