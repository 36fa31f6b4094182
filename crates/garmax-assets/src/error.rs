//! The one error type of the crate.

use std::path::PathBuf;

use garmax_core::{Coded, ErrorCode};

/// Everything that can go wrong while resolving, fetching or checking assets.
///
/// Messages name the file or package involved and, where the user can fix it,
/// the command to run, because these errors reach the terminal verbatim.
#[derive(Debug, thiserror::Error)]
pub enum AssetError {
    /// No cache directory could be derived from the environment.
    #[error(
        "cannot choose a cache directory: neither GARMAX_CACHE_DIR, XDG_CACHE_HOME nor HOME is set"
    )]
    NoCacheDir,

    /// The embedded manifest or hash table (or a test's) is malformed.
    #[error("invalid asset manifest ({what}): {message}")]
    Manifest { what: String, message: String },

    /// An asset is not in the cache (or has the wrong size) yet.
    #[error("asset `{asset}` is not in the cache ({path}); run `garmax models fetch`")]
    Missing { asset: String, path: PathBuf },

    /// The name asked for is not an asset of the manifest.
    #[error("`{0}` is not a known asset; `garmax models status` lists them")]
    Unknown(String),

    /// An extracted file does not have the SHA-256 the table expects.
    #[error("checksum mismatch for `{path}`: expected sha256 {expected}, got {actual}")]
    HashMismatch {
        path: String,
        expected: String,
        actual: String,
    },

    /// The package's archive holds a file the manifest selects but the hash
    /// table does not list, or lacks a file the table lists.
    #[error(
        "package {package}: {message}; if the manifest changed on purpose, run `garmax models lock`"
    )]
    TableOutOfDate { package: String, message: String },

    /// No usable registry client was found.
    #[error(
        "{client} not found (tried {tried}); it is needed to download {package}. \
         Install it ({hint}) or point {env} at it, then run `garmax models fetch`"
    )]
    ClientMissing {
        client: &'static str,
        tried: String,
        package: String,
        hint: &'static str,
        env: &'static str,
    },

    /// The registry client ran but failed (registry unreachable, no such
    /// version, ...).
    #[error(
        "`{command}` failed ({status}) while downloading {package}; is the registry reachable? \
         Its last output:\n{stderr_tail}"
    )]
    ClientFailed {
        package: String,
        command: String,
        status: String,
        stderr_tail: String,
    },

    /// The client produced a different file than the manifest pins.
    #[error(
        "downloading {package} produced {got:?} but the manifest pins {expected:?}; \
         the registry or platform tags changed, so update assets/manifest.toml and run `garmax models lock`"
    )]
    UnexpectedArchive {
        package: String,
        expected: String,
        got: Vec<String>,
    },

    /// A downloaded archive cannot be read.
    #[error("cannot read archive {path}: {message}")]
    BadArchive { path: PathBuf, message: String },

    /// Reading or writing a file of the cache failed.
    #[error("{action} {path}: {source}")]
    Io {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

impl AssetError {
    pub(crate) fn io(
        action: &'static str,
        path: impl Into<PathBuf>,
    ) -> impl FnOnce(std::io::Error) -> AssetError {
        let path = path.into();
        move |source| AssetError::Io {
            action,
            path,
            source,
        }
    }
}

impl Coded for AssetError {
    fn code(&self) -> ErrorCode {
        match self {
            AssetError::Io { .. } => ErrorCode::Io,
            AssetError::Manifest { .. } | AssetError::NoCacheDir => ErrorCode::InvalidConfig,
            AssetError::Missing { .. }
            | AssetError::Unknown(_)
            | AssetError::HashMismatch { .. }
            | AssetError::TableOutOfDate { .. }
            | AssetError::ClientMissing { .. }
            | AssetError::ClientFailed { .. }
            | AssetError::UnexpectedArchive { .. }
            | AssetError::BadArchive { .. } => ErrorCode::AssetUnavailable,
        }
    }
}
