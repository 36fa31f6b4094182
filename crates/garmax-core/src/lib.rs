//! Domain types and rules shared by every garmax crate that need no I/O:
//! the error codes the API reports, and the landmark types that connect the
//! person analysis to the body fitter, the renderer and the validators.

pub mod error;
pub mod pose;

pub use error::{Coded, ErrorCode};
