//! The try-on pipeline as a library — its one job: turn a person photo (or a
//! catalogue persona) and a product photo into a validated try-on image
//! with a report. Used by the CLI, the worker and the server alike.
//!
//! The pipeline comes in stages, each usable on its own so a server can
//! compute an avatar once and store it:
//!
//! 1. [`Models::load`] — person analysis and the body model, once per
//!    process (`Send + Sync`; share behind an `Arc`).
//! 2. [`prepare_person`] (or [`prepare_stage1`] for a persona) — person
//!    analysis → body fit → guidance maps: a [`PreparedPerson`]; a persona
//!    pose without a photo is the body model drawn as a [`mannequin`] in
//!    that pose, its guidance maps drawn from the exact body (depth and
//!    parts keep crossed forearms in front of the torso). Stored with
//!    [`PreparedPerson::to_files`] and read back with
//!    [`PreparedPerson::from_files`].
//! 3. [`prepare_garment`] — the product analysis: a [`PreparedGarment`],
//!    with the same pair of file functions.
//! 4. [`render_tryon`] — render, validate, retry per tier: a
//!    [`TryOnOutcome`] with the image, the seed's validation object, the
//!    retry history, timings and warnings; [`TryOnOutcome::report`] is
//!    `report.json`.
//!
//! Progress goes to a [`ProgressSink`] as [`Stage`]s on the seed's progress
//! map ([`Stage::key`], [`Stage::progress`]). Errors are [`TryOnError`],
//! which carries the inner crates' codes ([`garmax_core::Coded`]).
//!
//! The crate is synchronous and knows nothing of async, HTTP or SQL: a
//! server calls it on a blocking pool. It reads only the model files of the
//! asset cache it is handed.
//!
//! # Memory per job
//!
//! Photos are processed at a working resolution: the longest side is capped
//! at [`ModelOptions::max_side`] (default [`DEFAULT_MAX_SIDE`], 2048 px;
//! product photos at the same cap), right after decoding. The renderer and
//! the body rasteriser keep a few dozen full-size planes of the person
//! photo, so memory grows with the photo's pixels; the cap bounds it.
//! Measured peak RSS of the whole `garmax tryon` process (`/usr/bin/time
//! -v`, standard tier with validation and retry, body fit on):
//!
//! | person photo | before the cap | with the 2048 px cap |
//! |---|---|---|
//! | 512×512 astronaut | — | 0.25 GB |
//! | 6400×6200 (40 MP) JPEG, the astronaut upscaled | 9.2 GB, 3 min 26 s | 1.3 GB, 38 s |
//!
//! The 1.3 GB include the models (~0.2 GB) and the decoded 40 MP upload
//! itself (160 MB of RGBA, which `decode_image`'s 40 MP limit bounds), so
//! one job stays near 1 GB above the shared models whatever the upload.

mod error;
mod files;
mod garment;
pub mod mannequin;
mod models;
mod person;
mod progress;
mod render;
mod report;
mod stage1;

pub use error::TryOnError;
pub use files::Gray16Image;
pub use garment::{GarmentSource, PreparedGarment, prepare_garment, prepare_garment_with};
pub use models::{
    DEFAULT_MAX_SIDE, FaceApiEmbedder, ModelOptions, Models, body_model, face_identity,
    person_analyzer,
};
pub use person::{
    FaceSummary, Guidance, PersonReport, PersonSummary, PreparedPerson, prepare_person,
    regions_from_segment,
};
pub use progress::{NoProgress, ProgressSink, Stage};
pub use render::{
    Accuracy, Consistency, SeedValidation, TryOnOptions, TryOnOutcome, Validated, face_points,
    garment_mask_of, mapped_logo_boxes, render_tryon, validate_render,
};
pub use report::{CostEstimate, RenderReport, Timing, TryOnReport};
pub use stage1::{prepare_mannequin, prepare_mannequin_in_pose, prepare_stage1};
