//! Fetch behaviour against a fake registry: a small wheel built here and a
//! fake `pip` (a shell script) that copies it, so no network is needed.

use std::ffi::OsString;
use std::fs;
use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use garmax_assets::{
    AssetError, Cache, Clients, FetchEvent, FileState, Manifest, fetch_with, hash_reader, lock,
};
use sha2::{Digest, Sha256};

const ARCHIVE: &str = "fake-1.0-py3-none-any.whl";

/// Selected files of the fake wheel; `fake/other.txt` is not selected.
const FILES: &[(&str, &[u8])] = &[
    ("fake/models/a.tflite", b"model a bytes"),
    (
        "fake/models/deep/b.tflite",
        b"model b, somewhat longer bytes",
    ),
    ("fake/data/photo.png", b"\x89PNG not really"),
    ("fake/LICENSE", b"CC0"),
];

const MANIFEST: &str = r#"
[[package]]
name = "fake"
version = "1.0"
archive = "fake-1.0-py3-none-any.whl"
licence = "CC0-1.0"
files = ["fake/models/**", "fake/data/*.png", "fake/LICENSE"]
[package.pip]
args = ["--python-version", "3.11"]
"#;

struct Fixture {
    _dir: tempfile::TempDir,
    root: PathBuf,
    cache: Cache,
    wheel: PathBuf,
    calls: PathBuf,
}

impl Fixture {
    fn new() -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().to_owned();
        let wheel = root.join("registry").join(ARCHIVE);
        fs::create_dir_all(wheel.parent().unwrap()).unwrap();
        write_zip(&wheel, FILES, &[("fake/other.txt", b"not wanted")]);
        Fixture {
            cache: Cache::at(root.join("cache")),
            calls: root.join("calls.log"),
            wheel,
            root,
            _dir: dir,
        }
    }

    /// A fake pip that logs its call and copies `file` into `--dest`.
    fn pip(&self, file: &Path) -> Clients {
        self.script(
            "pip",
            &format!(
                "while [ $# -gt 0 ]; do [ \"$1\" = --dest ] && dest=\"$2\"; shift; done\ncp '{}' \"$dest/\"",
                file.display()
            ),
        )
    }

    fn script(&self, name: &str, body: &str) -> Clients {
        let path = self.root.join(name);
        let text = format!(
            "#!/bin/sh\necho \"$@\" >> '{}'\n{body}\n",
            self.calls.display()
        );
        fs::write(&path, text).unwrap();
        fs::set_permissions(&path, fs::Permissions::from_mode(0o755)).unwrap();
        let cmd = Some(vec![OsString::from(path)]);
        Clients {
            pip: cmd.clone(),
            npm: cmd,
        }
    }

    fn calls(&self) -> usize {
        fs::read_to_string(&self.calls)
            .map(|s| s.lines().count())
            .unwrap_or(0)
    }
}

fn write_zip(path: &Path, files: &[(&str, &[u8])], extra: &[(&str, &[u8])]) {
    let mut zip = zip::ZipWriter::new(fs::File::create(path).unwrap());
    let opts = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    zip.add_directory("fake/", opts).unwrap();
    for (name, data) in files.iter().chain(extra) {
        zip.start_file(*name, opts).unwrap();
        zip.write_all(data).unwrap();
    }
    zip.finish().unwrap();
}

fn table(files: &[(&str, &[u8])]) -> String {
    files
        .iter()
        .map(|(name, data)| {
            format!(
                "{name}\t{}\t{}\n",
                data.len(),
                hex::encode(Sha256::digest(data))
            )
        })
        .collect()
}

fn manifest() -> Manifest {
    Manifest::parse(MANIFEST, &table(FILES)).unwrap()
}

/// Runs a fetch and returns the names of the events it reported.
fn run(
    fx: &Fixture,
    m: &Manifest,
    clients: &Clients,
) -> (Result<garmax_assets::FetchSummary, AssetError>, Vec<String>) {
    let mut events = Vec::new();
    let result = fetch_with(&fx.cache, m, clients, &mut |e| {
        events.push(match e {
            FetchEvent::Package { .. } => "package".to_owned(),
            FetchEvent::UpToDate { .. } => "up-to-date".to_owned(),
            FetchEvent::ArchiveCached { .. } => "cached".to_owned(),
            FetchEvent::Downloading { .. } => "downloading".to_owned(),
            FetchEvent::Downloaded { .. } => "downloaded".to_owned(),
            FetchEvent::Discarded { .. } => "discarded".to_owned(),
            FetchEvent::FileOk { asset, .. } => format!("ok {asset}"),
            FetchEvent::Extracted { asset, .. } => format!("extracted {asset}"),
        })
    });
    (result, events)
}

#[test]
fn fetch_from_empty_cache_then_rerun_is_up_to_date() {
    let fx = Fixture::new();
    let pip = fx.pip(&fx.wheel);
    let m = manifest();
    let (summary, events) = run(&fx, &m, &pip);
    let summary = summary.unwrap();
    assert_eq!(summary.downloaded, vec![ARCHIVE.to_owned()]);
    assert_eq!(summary.extracted, FILES.len());
    assert_eq!(fx.calls(), 1);
    assert!(events.contains(&"downloading".to_owned()));
    for (name, data) in FILES {
        assert_eq!(fs::read(fx.cache.asset(name)).unwrap(), *data);
    }
    assert!(
        !fx.cache.asset("fake/other.txt").exists(),
        "unselected file extracted"
    );
    assert!(
        fx.cache.wheels_dir().join(ARCHIVE).is_file(),
        "wheel not kept"
    );
    assert!(garmax_assets::verify(&fx.cache, &m).is_ok());

    // Idempotent: nothing downloaded, nothing written, the client not run.
    let (summary, events) = run(&fx, &m, &pip);
    let summary = summary.unwrap();
    assert_eq!(summary.up_to_date, 1);
    assert_eq!(summary.extracted, 0);
    assert!(summary.downloaded.is_empty());
    assert_eq!(events, ["package", "up-to-date"]);
    assert_eq!(fx.calls(), 1);
}

#[test]
fn fetch_resumes_from_the_cached_wheel_and_ignores_partial_files() {
    let fx = Fixture::new();
    let pip = fx.pip(&fx.wheel);
    let m = manifest();
    run(&fx, &m, &pip).0.unwrap();

    // An interrupted run: one file gone, its half-written temp file left.
    let victim = fx.cache.asset("fake/models/deep/b.tflite");
    fs::remove_file(&victim).unwrap();
    let leftover = victim.with_file_name(".b.tflite.1.garmax-partial");
    fs::write(&leftover, b"model b, some").unwrap();
    assert_eq!(garmax_assets::status(&fx.cache, &m).problems().count(), 1);

    let (summary, events) = run(&fx, &m, &pip);
    let summary = summary.unwrap();
    assert_eq!(fx.calls(), 1, "the cached wheel must be reused");
    assert!(events.contains(&"cached".to_owned()));
    assert_eq!(summary.extracted, 1);
    assert!(events.contains(&"extracted fake/models/deep/b.tflite".to_owned()));
    assert!(garmax_assets::verify(&fx.cache, &m).is_ok());
    assert_eq!(fs::read(&victim).unwrap(), FILES[1].1);

    // Without the wheel, a missing file means one more download.
    fs::remove_file(fx.cache.wheels_dir().join(ARCHIVE)).unwrap();
    fs::remove_file(fx.cache.asset("fake/LICENSE")).unwrap();
    run(&fx, &m, &pip).0.unwrap();
    assert_eq!(fx.calls(), 2);
}

#[test]
fn corrupt_files_are_reported_and_repaired() {
    let fx = Fixture::new();
    let pip = fx.pip(&fx.wheel);
    let m = manifest();
    run(&fx, &m, &pip).0.unwrap();
    let path = fx.cache.asset("fake/models/a.tflite");
    fs::write(&path, b"MODEL A BYTES").unwrap(); // same size, other bytes

    let report = garmax_assets::verify(&fx.cache, &m);
    let bad: Vec<_> = report.problems().collect();
    assert_eq!(bad.len(), 1);
    assert_eq!(bad[0].asset, "fake/models/a.tflite");
    assert!(matches!(bad[0].state, FileState::Corrupt { .. }));
    // The quick status compares sizes only, by design.
    assert!(garmax_assets::status(&fx.cache, &m).is_ok());

    fs::write(fx.cache.asset("fake/LICENSE"), b"truncated").unwrap();
    assert!(matches!(
        garmax_assets::status(&fx.cache, &m)
            .problems()
            .next()
            .map(|f| &f.state),
        Some(FileState::Corrupt { .. })
    ));

    let summary = run(&fx, &m, &pip).0.unwrap();
    assert_eq!(summary.extracted, 2);
    assert_eq!(fx.calls(), 1);
    assert!(garmax_assets::verify(&fx.cache, &m).is_ok());
}

#[test]
fn a_hash_mismatch_names_the_file_and_leaves_nothing_that_looks_valid() {
    let fx = Fixture::new();
    let pip = fx.pip(&fx.wheel);
    let tampered: Vec<(&str, &[u8])> = FILES
        .iter()
        .map(|&(n, d)| {
            if n == "fake/LICENSE" {
                (n, &b"CC1"[..])
            } else {
                (n, d)
            }
        })
        .collect();
    let m = Manifest::parse(MANIFEST, &table(&tampered)).unwrap();
    let expected = hex::encode(Sha256::digest(b"CC1"));
    let actual = hex::encode(Sha256::digest(b"CC0"));
    let (result, _) = run(&fx, &m, &pip);
    match result {
        Err(AssetError::HashMismatch {
            path,
            expected: e,
            actual: a,
        }) => {
            assert_eq!(path, "fake/LICENSE");
            assert!(e.contains(&expected) && a.contains(&actual), "{e} / {a}");
        }
        other => panic!("expected a hash mismatch, got {other:?}"),
    }
    let license = fx.cache.asset("fake/LICENSE");
    assert!(!license.exists());
    let names: Vec<_> = fs::read_dir(license.parent().unwrap())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    assert!(!names.iter().any(|n| n.contains("LICENSE")), "{names:?}");

    // With the wheel already cached the fetch downloads once more before
    // giving up, in case the cached copy was damaged.
    let (result, events) = run(&fx, &m, &pip);
    assert!(matches!(result, Err(AssetError::HashMismatch { .. })));
    assert!(events.contains(&"discarded".to_owned()));
    assert_eq!(fx.calls(), 2);
}

#[test]
fn a_damaged_cached_wheel_is_downloaded_again() {
    let fx = Fixture::new();
    let pip = fx.pip(&fx.wheel);
    let m = manifest();
    fs::create_dir_all(fx.cache.wheels_dir()).unwrap();
    fs::write(fx.cache.wheels_dir().join(ARCHIVE), b"PK\x03\x04 truncated").unwrap();
    let (result, events) = run(&fx, &m, &pip);
    result.unwrap();
    assert!(events.contains(&"discarded".to_owned()));
    assert_eq!(fx.calls(), 1);
    assert!(garmax_assets::verify(&fx.cache, &m).is_ok());
}

#[test]
fn a_missing_client_says_what_to_install_and_run() {
    let fx = Fixture::new();
    let nowhere = Clients {
        pip: Some(vec![fx.root.join("no-such-pip").into()]),
        npm: None,
    };
    let err = run(&fx, &manifest(), &nowhere).0.unwrap_err();
    assert!(matches!(err, AssetError::ClientMissing { .. }), "{err:?}");
    let text = err.to_string();
    assert!(
        text.contains("pip not found") && text.contains("garmax models fetch"),
        "{text}"
    );
    assert_eq!(
        garmax_core::Coded::code(&err),
        garmax_core::ErrorCode::AssetUnavailable
    );
}

#[test]
fn a_failing_client_shows_its_last_stderr_lines() {
    let fx = Fixture::new();
    let failing = fx.script(
        "pip",
        "echo 'Looking in indexes: https://pypi.org/simple' >&2\n\
         echo 'ERROR: Could not find a version that satisfies the requirement fake==1.0' >&2\nexit 1",
    );
    let err = run(&fx, &manifest(), &failing).0.unwrap_err();
    let text = err.to_string();
    assert!(matches!(err, AssetError::ClientFailed { .. }), "{err:?}");
    assert!(
        text.contains("fake==1.0") && text.contains("Could not find a version"),
        "{text}"
    );
    assert!(text.contains("registry reachable"), "{text}");
    // No half download left in the cache.
    let leftovers: Vec<_> = fs::read_dir(fx.cache.wheels_dir()).unwrap().collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[test]
fn an_unexpected_archive_name_is_refused() {
    let fx = Fixture::new();
    let other = fx
        .root
        .join("registry")
        .join("fake-1.0-cp311-cp311-manylinux_2_34_x86_64.whl");
    fs::copy(&fx.wheel, &other).unwrap();
    let err = run(&fx, &manifest(), &fx.pip(&other)).0.unwrap_err();
    assert!(
        matches!(err, AssetError::UnexpectedArchive { .. }),
        "{err:?}"
    );
    assert!(err.to_string().contains("manylinux_2_34"));
}

#[test]
fn an_archive_file_missing_from_the_table_is_reported() {
    let fx = Fixture::new();
    let pip = fx.pip(&fx.wheel);
    let m = Manifest::parse(MANIFEST, &table(&FILES[..3])).unwrap();
    let err = run(&fx, &m, &pip).0.unwrap_err();
    assert!(matches!(err, AssetError::TableOutOfDate { .. }), "{err:?}");
    assert!(
        err.to_string().contains("fake/LICENSE") && err.to_string().contains("garmax models lock")
    );
}

#[test]
fn lock_regenerates_the_table() {
    let fx = Fixture::new();
    let pip = fx.pip(&fx.wheel);
    let packages = Manifest::parse_packages(MANIFEST).unwrap();
    // From a directory of archives: no download.
    let table = lock(
        &packages,
        &pip,
        Some(fx.wheel.parent().unwrap()),
        &fx.root.join("scratch"),
        &mut |_| {},
    )
    .unwrap();
    assert_eq!(table, manifest().table);
    assert_eq!(fx.calls(), 0);
    // Fresh download.
    let table = lock(&packages, &pip, None, &fx.root.join("scratch"), &mut |_| {}).unwrap();
    assert_eq!(table, manifest().table);
    assert_eq!(fx.calls(), 1);
    // A pattern matching nothing is a manifest error.
    let typo = MANIFEST.replace("fake/LICENSE\"", "fake/LICENCE\"");
    let packages = Manifest::parse_packages(&typo).unwrap();
    let err = lock(
        &packages,
        &pip,
        Some(fx.wheel.parent().unwrap()),
        &fx.root.join("scratch"),
        &mut |_| {},
    )
    .unwrap_err();
    assert!(err.to_string().contains("fake/LICENCE"), "{err}");
}

#[test]
fn npm_tarballs_are_fetched_with_npm_pack() {
    let fx = Fixture::new();
    let tgz = fx.root.join("registry").join("scope-pics-2.0.0.tgz");
    {
        let gz = flate2::write::GzEncoder::new(
            fs::File::create(&tgz).unwrap(),
            flate2::Compression::fast(),
        );
        let mut tar = tar::Builder::new(gz);
        for (name, data) in [
            ("package/demo/sample1.jpg", &b"jpeg one"[..]),
            ("package/index.js", b"js"),
        ] {
            let mut header = tar::Header::new_gnu();
            header.set_size(data.len() as u64);
            header.set_mode(0o644);
            header.set_cksum();
            tar.append_data(&mut header, name, data).unwrap();
        }
        tar.into_inner().unwrap().finish().unwrap();
    }
    let npm = fx.script(
        "npm",
        &format!(
            "[ \"$1 $2\" = 'pack @scope/pics@2.0.0' ] || exit 3\n\
             while [ $# -gt 0 ]; do [ \"$1\" = --pack-destination ] && dest=\"$2\"; shift; done\ncp '{}' \"$dest/\"",
            tgz.display()
        ),
    );
    let toml = r#"
[[package]]
name = "@scope/pics"
version = "2.0.0"
archive = "scope-pics-2.0.0.tgz"
dest = "pics"
licence = "MIT"
files = ["package/demo/sample*.jpg"]
[package.npm]
"#;
    let m = Manifest::parse(
        toml,
        &table(&[("pics/package/demo/sample1.jpg", b"jpeg one")]),
    )
    .unwrap();
    let summary = run(&fx, &m, &npm).0.unwrap();
    assert_eq!(summary.extracted, 1);
    assert_eq!(
        fs::read(fx.cache.asset("pics/package/demo/sample1.jpg")).unwrap(),
        b"jpeg one"
    );
    assert!(garmax_assets::verify(&fx.cache, &m).is_ok());
}

#[test]
fn hash_reader_matches_sha2() {
    let data = vec![7u8; 200_000];
    let (size, sha) = hash_reader(&mut &data[..]).unwrap();
    assert_eq!(size, 200_000);
    assert_eq!(sha, hex::encode(Sha256::digest(&data)));
}
