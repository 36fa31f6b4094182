//! Quality validation and adaptive retry for garmax: the consistency seed's
//! "Quality Validation Engine" and "Adaptive Retry System".
//!
//! - [`validator`]: the [`Validator`] trait, the [`ValidationInput`] every
//!   validator sees and the [`ValidationEngine`] that combines them;
//! - five validators computed from pixels and landmarks: [`face`], [`pose`],
//!   [`color`], [`style`], [`branding`];
//! - [`features`]: Harris corners, patch descriptors and RANSAC fits, with
//!   which the branding validator finds a print wherever a warp put it;
//! - [`config`]: the standard / premium / ultra tiers with the seed's
//!   thresholds and parameters, weights and limits, read from
//!   `config/quality_tiers.toml`;
//! - [`retry`]: the planner that turns failed scores into parameter changes,
//!   and the retry loop that drives any generator;
//! - [`cache`]: size- and age-bounded caches keyed by content hash;
//! - [`testkit`]: deterministic good and damaged composites, and ROC AUC, for
//!   the separation tests and report; `testkit::warped`, renders imitating a
//!   warping renderer's prints (bent, keystoned, rescaled, shaded).
//!
//! The crate takes plain data (images, masks, landmark arrays, the garment
//! analysis), does no I/O and no async, and depends only on `garmax-core`
//! and `garmax-vision`; the person analysis and renderer plug in from the
//! CLI or the server.

pub mod branding;
pub mod cache;
pub mod color;
pub mod config;
pub mod error;
pub mod face;
pub mod features;
pub mod imgops;
pub mod pose;
pub mod region;
pub mod retry;
pub mod style;
pub mod testkit;
pub mod validator;

pub use config::{Knob, Metric, Parameters, QualityConfig, Thresholds, Tier, TierConfig};
pub use error::QualityError;
pub use retry::{
    Attempt, RetryFailure, RetryHistory, RetryLimits, RetryOutcome, RetryPlanner, StopReason,
    run_with_retry,
};
pub use validator::{
    FaceLayout, FacePoints, ProductInput, ValidationEngine, ValidationInput, ValidationReport,
    Validator, ValidatorResult,
};
