//! Where the cache lives and how asset names map to paths in it.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use crate::AssetError;

/// The asset of the ONNX Runtime shared library that `ort::init_from` loads.
pub const ONNXRUNTIME_LIBRARY: &str = "onnxruntime/capi/libonnxruntime.so.1.32.0";

/// The cache directory:
///
/// ```text
/// <root>/wheels/   downloaded archives, kept so that re-runs need no network
/// <root>/assets/   extracted files, at their path inside the package
/// <root>/models/   ONNX files converted from the .tflite assets (written by
///                  the converter, not by this crate)
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cache {
    root: PathBuf,
}

impl Cache {
    /// The cache named by the environment: `GARMAX_CACHE_DIR`, else
    /// `$XDG_CACHE_HOME/garmax`, else `~/.cache/garmax`.
    pub fn resolve() -> Result<Cache, AssetError> {
        Cache::resolve_with(|key| std::env::var_os(key))
    }

    /// [`Cache::resolve`] with the environment injected, so tests need not
    /// mutate the process environment.
    pub fn resolve_with(env: impl Fn(&str) -> Option<OsString>) -> Result<Cache, AssetError> {
        let set = |key| env(key).filter(|v: &OsString| !v.is_empty());
        if let Some(dir) = set("GARMAX_CACHE_DIR") {
            return Ok(Cache::at(dir));
        }
        // The XDG spec says relative values are invalid and must be ignored.
        if let Some(xdg) = set("XDG_CACHE_HOME")
            .map(PathBuf::from)
            .filter(|p| p.is_absolute())
        {
            return Ok(Cache::at(xdg.join("garmax")));
        }
        match set("HOME") {
            Some(home) => Ok(Cache::at(PathBuf::from(home).join(".cache").join("garmax"))),
            None => Err(AssetError::NoCacheDir),
        }
    }

    /// A cache rooted at `root` (created on first fetch).
    pub fn at(root: impl Into<PathBuf>) -> Cache {
        Cache { root: root.into() }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Downloaded archives.
    pub fn wheels_dir(&self) -> PathBuf {
        self.root.join("wheels")
    }

    /// Extracted files.
    pub fn assets_dir(&self) -> PathBuf {
        self.root.join("assets")
    }

    /// Converted ONNX models; reserved for the TFLite → ONNX converter.
    pub fn models_dir(&self) -> PathBuf {
        self.root.join("models")
    }

    /// The path an asset has (or will have) in the cache, e.g.
    /// `cache.asset("mediapipe/modules/pose_detection/pose_detection.tflite")`.
    /// It does not check that the file exists; [`Cache::require`] does.
    pub fn asset(&self, name: &str) -> PathBuf {
        let mut path = self.assets_dir();
        // Component-wise so that a `/`-separated name works on every OS.
        path.extend(name.split('/').filter(|c| !c.is_empty()));
        path
    }

    /// The path of an asset that must already be in the cache; the error
    /// tells the user to run `garmax models fetch`.
    pub fn require(&self, name: &str) -> Result<PathBuf, AssetError> {
        let path = self.asset(name);
        if name.split('/').any(|c| c == "..") {
            return Err(AssetError::Unknown(name.to_owned()));
        }
        if path.is_file() {
            Ok(path)
        } else {
            Err(AssetError::Missing {
                asset: name.to_owned(),
                path,
            })
        }
    }

    /// The ONNX Runtime shared library to pass to `ort::init_from`.
    pub fn onnxruntime_library(&self) -> Result<PathBuf, AssetError> {
        self.require(ONNXRUNTIME_LIBRARY)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env<'a>(pairs: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<OsString> + 'a {
        move |key| {
            pairs
                .iter()
                .find(|(k, _)| *k == key)
                .map(|(_, v)| OsString::from(v))
        }
    }

    #[test]
    fn resolution_order() {
        let all = [
            ("GARMAX_CACHE_DIR", "/g"),
            ("XDG_CACHE_HOME", "/x"),
            ("HOME", "/h"),
        ];
        assert_eq!(
            Cache::resolve_with(env(&all)).unwrap().root(),
            Path::new("/g")
        );
        assert_eq!(
            Cache::resolve_with(env(&all[1..])).unwrap().root(),
            Path::new("/x/garmax")
        );
        assert_eq!(
            Cache::resolve_with(env(&all[2..])).unwrap().root(),
            Path::new("/h/.cache/garmax")
        );
        // Empty and relative XDG values are ignored.
        let odd = [
            ("GARMAX_CACHE_DIR", ""),
            ("XDG_CACHE_HOME", "rel"),
            ("HOME", "/h"),
        ];
        assert_eq!(
            Cache::resolve_with(env(&odd)).unwrap().root(),
            Path::new("/h/.cache/garmax")
        );
        assert!(matches!(
            Cache::resolve_with(env(&[])),
            Err(AssetError::NoCacheDir)
        ));
    }

    #[test]
    fn layout_and_require() {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::at(dir.path());
        assert_eq!(cache.models_dir(), dir.path().join("models"));
        assert_eq!(
            cache.asset("a/b.txt"),
            dir.path().join("assets").join("a").join("b.txt")
        );
        assert!(matches!(
            cache.require("a/b.txt"),
            Err(AssetError::Missing { .. })
        ));
        assert!(matches!(cache.require("../x"), Err(AssetError::Unknown(_))));
        std::fs::create_dir_all(dir.path().join("assets/a")).unwrap();
        std::fs::write(dir.path().join("assets/a/b.txt"), "x").unwrap();
        assert_eq!(cache.require("a/b.txt").unwrap(), cache.asset("a/b.txt"));
    }
}
