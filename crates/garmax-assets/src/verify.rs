//! Checking the cache against the hash table.

use std::fs::File;
use std::io::{self, Read};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::{Cache, Expected, Manifest};

/// The state of one extracted file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FileState {
    Ok,
    Missing,
    /// Present but wrong (size, hash or unreadable); `detail` says how.
    Corrupt {
        detail: String,
    },
}

impl FileState {
    pub fn label(&self) -> &'static str {
        match self {
            FileState::Ok => "ok",
            FileState::Missing => "missing",
            FileState::Corrupt { .. } => "corrupt",
        }
    }
}

/// One file of a [`Report`].
#[derive(Debug, Clone)]
pub struct FileReport {
    pub asset: String,
    pub path: PathBuf,
    pub state: FileState,
}

/// The files of one package.
#[derive(Debug, Clone)]
pub struct PackageReport {
    pub name: String,
    pub version: String,
    pub files: Vec<FileReport>,
}

impl PackageReport {
    pub fn is_ok(&self) -> bool {
        self.files.iter().all(|f| f.state == FileState::Ok)
    }
}

/// The state of every asset of a manifest.
#[derive(Debug, Clone)]
pub struct Report {
    pub packages: Vec<PackageReport>,
    /// Whether hashes were checked ([`verify`]) or only sizes ([`status`]).
    pub hashed: bool,
}

impl Report {
    pub fn is_ok(&self) -> bool {
        self.packages.iter().all(PackageReport::is_ok)
    }

    /// The files that are not ok.
    pub fn problems(&self) -> impl Iterator<Item = &FileReport> {
        self.packages
            .iter()
            .flat_map(|p| &p.files)
            .filter(|f| f.state != FileState::Ok)
    }
}

/// Checks every asset's size and SHA-256: the full check.
pub fn verify(cache: &Cache, manifest: &Manifest) -> Report {
    report(cache, manifest, true)
}

/// Checks only that every asset exists with the right size: cheap enough to
/// run before every command that needs the assets.
pub fn status(cache: &Cache, manifest: &Manifest) -> Report {
    report(cache, manifest, false)
}

fn report(cache: &Cache, manifest: &Manifest, hashed: bool) -> Report {
    let packages = manifest
        .packages
        .iter()
        .map(|p| PackageReport {
            name: p.name.clone(),
            version: p.version.clone(),
            files: manifest
                .entries_of(p)
                .map(|(asset, expected)| {
                    let path = cache.asset(asset);
                    let state = check_file(&path, expected, hashed);
                    FileReport {
                        asset: asset.clone(),
                        path,
                        state,
                    }
                })
                .collect(),
        })
        .collect();
    Report { packages, hashed }
}

/// The state of one file; with `hash` false only existence and size count.
pub(crate) fn check_file(path: &Path, expected: &Expected, hash: bool) -> FileState {
    let meta = match std::fs::metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return FileState::Missing,
        Err(e) => {
            return FileState::Corrupt {
                detail: e.to_string(),
            };
        }
    };
    if !meta.is_file() {
        return FileState::Corrupt {
            detail: "not a regular file".into(),
        };
    }
    if meta.len() != expected.size {
        return FileState::Corrupt {
            detail: format!("size {} instead of {}", meta.len(), expected.size),
        };
    }
    if !hash {
        return FileState::Ok;
    }
    match hash_file(path) {
        Ok((_, actual)) if actual == expected.sha256 => FileState::Ok,
        Ok((_, actual)) => FileState::Corrupt {
            detail: format!("sha256 {actual} instead of {}", expected.sha256),
        },
        Err(e) => FileState::Corrupt {
            detail: e.to_string(),
        },
    }
}

/// Size and lower-case hex SHA-256 of a file.
pub fn hash_file(path: &Path) -> io::Result<(u64, String)> {
    hash_reader(&mut File::open(path)?)
}

/// Size and lower-case hex SHA-256 of a stream.
pub fn hash_reader(reader: &mut dyn Read) -> io::Result<(u64, String)> {
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    let mut size = 0u64;
    loop {
        let n = match reader.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        hasher.update(&buf[..n]);
        size += n as u64;
    }
    Ok((size, hex::encode(hasher.finalize())))
}
