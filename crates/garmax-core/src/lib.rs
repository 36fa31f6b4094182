//! Domain types and rules shared by every garmax crate that need no I/O:
//! the error codes the API reports, the quality tiers and their parameters
//! (one table, `tier`), and the landmark types that connect the
//! person analysis to the body fitter, the renderer and the validators;
//! `abtest`, the statistics that decide an A/B test; `alerts`, the
//! seed's alert rules and their firing / resolved state machine;
//! `product_map`, which product pixel each pixel of a render shows (from
//! the renderer to the branding validator).

pub mod abtest;
pub mod alerts;
pub mod billing;
pub mod error;
pub mod pose;
pub mod product_map;
pub mod session;
pub mod tier;

pub use error::{Coded, ErrorCode};
