//! Domain types and rules shared by every garmax crate that need no I/O:
//! the error codes the API reports, and the small value types built on them.

pub mod error;

pub use error::{Coded, ErrorCode};
