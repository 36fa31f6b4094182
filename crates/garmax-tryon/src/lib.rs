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
//!    analysis → body fit → guidance maps: a [`PreparedPerson`], stored with
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
//! products at the same cap), so a 40 MP upload is downscaled right after
//! decoding. The renderer keeps a few dozen full-size planes of the person
//! photo (RGBA and float layers, masks, regions, the warped garment), about
//! 150–200 bytes per pixel at its peak; at the cap (≤ 4.2 MP, e.g.
//! 2048×1536 = 3.1 MP) that bounds one try-on job at well under 1 GiB on
//! top of the shared models (measured with `/usr/bin/time -v garmax tryon`;
//! the figures are in `docs/render/README.md`). Without the cap a 40 MP
//! photo took about 5 GB.

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
pub use models::{DEFAULT_MAX_SIDE, ModelOptions, Models, body_model, person_analyzer};
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
pub use stage1::{prepare_mannequin, prepare_stage1};
