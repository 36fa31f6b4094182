//! The manifest (`assets/manifest.toml`: which packages, how to fetch them,
//! which files to extract) and the hash table (`assets/sha256.tsv`: the size
//! and SHA-256 of every extracted file).

use std::collections::{BTreeMap, HashSet};
use std::fmt::Write as _;

use globset::{Glob, GlobBuilder, GlobSet, GlobSetBuilder};
use serde::Deserialize;

use crate::AssetError;

/// The manifest shipped in the repository, compiled into the binary so that a
/// release needs no files next to it.
const BUILTIN_MANIFEST: &str = include_str!("../../../assets/manifest.toml");
const BUILTIN_TABLE: &str = include_str!("../../../assets/sha256.tsv");

/// Where a package comes from and which registry client fetches it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// A PyPI wheel fetched with `pip download --no-deps --only-binary=:all:`;
    /// `args` pin interpreter and platform so the same bytes come every time.
    Pip { args: Vec<String> },
    /// An npm tarball fetched with `npm pack`.
    Npm { args: Vec<String> },
}

impl Source {
    /// The registry client's name, for messages.
    pub fn client(&self) -> &'static str {
        match self {
            Source::Pip { .. } => "pip",
            Source::Npm { .. } => "npm",
        }
    }
}

/// One registry package and the files taken from it.
#[derive(Debug, Clone)]
pub struct Package {
    pub name: String,
    pub version: String,
    pub source: Source,
    /// The archive file name the client must produce.
    pub archive: String,
    /// Directory under `<cache>/assets/` the files land in ("" = none).
    pub dest: String,
    /// Paths or glob patterns inside the archive.
    pub files: Vec<String>,
    pub licence: String,
    pub licence_note: String,
    pub homepage: String,
    matcher: GlobSet,
}

impl Package {
    /// `name==version` for pip, `name@version` for npm.
    pub fn spec(&self) -> String {
        match self.source {
            Source::Pip { .. } => format!("{}=={}", self.name, self.version),
            Source::Npm { .. } => format!("{}@{}", self.name, self.version),
        }
    }

    /// Whether a member of the archive (its path inside the archive) is
    /// selected by the package's `files`.
    pub fn selects(&self, member: &str) -> bool {
        self.matcher.is_match(member)
    }

    /// Which of the package's `files` entries match none of `members`.
    pub fn unmatched_patterns<'a>(
        &self,
        members: impl IntoIterator<Item = &'a str>,
    ) -> Vec<String> {
        let mut hit = vec![false; self.files.len()];
        for member in members {
            for i in self.matcher.matches(member) {
                hit[i] = true;
            }
        }
        self.files
            .iter()
            .zip(hit)
            .filter(|(_, hit)| !hit)
            .map(|(p, _)| p.clone())
            .collect()
    }

    /// The asset name (path under `<cache>/assets/`) of an archive member.
    pub fn asset_name(&self, member: &str) -> String {
        if self.dest.is_empty() {
            member.to_owned()
        } else {
            format!("{}/{member}", self.dest)
        }
    }

    /// The archive member an asset name came from, if it belongs to this
    /// package.
    pub fn member_of<'a>(&self, asset: &'a str) -> Option<&'a str> {
        let member = if self.dest.is_empty() {
            asset
        } else {
            asset.strip_prefix(&self.dest)?.strip_prefix('/')?
        };
        self.selects(member).then_some(member)
    }
}

/// The expected size and SHA-256 of one extracted file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expected {
    pub size: u64,
    /// Lower-case hex.
    pub sha256: String,
}

/// Asset name → expected size and hash, in path order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HashTable {
    pub entries: BTreeMap<String, Expected>,
}

impl HashTable {
    /// Parses `path<TAB>size<TAB>sha256` lines; `#` starts a comment line.
    pub fn parse(text: &str) -> Result<HashTable, AssetError> {
        let bad = |line: usize, message: String| AssetError::Manifest {
            what: format!("sha256.tsv line {line}"),
            message,
        };
        let mut entries = BTreeMap::new();
        for (i, line) in text.lines().enumerate() {
            let line_no = i + 1;
            let line = line.trim_end_matches('\r');
            if line.trim().is_empty() || line.starts_with('#') {
                continue;
            }
            let cols: Vec<&str> = line.split('\t').collect();
            let [path, size, sha] = cols[..] else {
                return Err(bad(
                    line_no,
                    format!("expected 3 tab-separated columns, found {}", cols.len()),
                ));
            };
            let size = size
                .parse::<u64>()
                .map_err(|e| bad(line_no, format!("size {size:?}: {e}")))?;
            if sha.len() != 64
                || !sha
                    .bytes()
                    .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
            {
                return Err(bad(
                    line_no,
                    format!("{sha:?} is not a lower-case hex SHA-256"),
                ));
            }
            check_relative(path).map_err(|m| bad(line_no, m))?;
            let entry = Expected {
                size,
                sha256: sha.to_owned(),
            };
            if entries.insert(path.to_owned(), entry).is_some() {
                return Err(bad(line_no, format!("duplicate path {path}")));
            }
        }
        Ok(HashTable { entries })
    }

    /// The table as written to `assets/sha256.tsv`.
    pub fn to_tsv(&self) -> String {
        let mut out = String::from(
            "# path\tsize\tsha256 of every file garmax extracts (see assets/manifest.toml).\n\
             # Generated by `garmax models lock`; do not edit by hand.\n",
        );
        for (path, e) in &self.entries {
            // Writing to a String cannot fail.
            let _ = writeln!(out, "{path}\t{}\t{}", e.size, e.sha256);
        }
        out
    }
}

/// Rejects paths that could escape the cache directory.
fn check_relative(path: &str) -> Result<(), String> {
    let ok = !path.is_empty()
        && !path.starts_with('/')
        && !path.contains('\\')
        && path
            .split('/')
            .all(|c| !c.is_empty() && c != "." && c != "..");
    if ok {
        Ok(())
    } else {
        Err(format!("{path:?} is not a plain relative path"))
    }
}

/// The packages and the hash table.
#[derive(Debug, Clone)]
pub struct Manifest {
    pub packages: Vec<Package>,
    pub table: HashTable,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawManifest {
    #[serde(default)]
    package: Vec<RawPackage>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPackage {
    name: String,
    version: String,
    archive: String,
    #[serde(default)]
    dest: String,
    files: Vec<String>,
    licence: String,
    #[serde(default)]
    licence_note: String,
    #[serde(default)]
    homepage: String,
    pip: Option<RawSource>,
    npm: Option<RawSource>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSource {
    #[serde(default)]
    args: Vec<String>,
}

impl Manifest {
    /// The manifest and hash table compiled into this build.
    pub fn builtin() -> Result<Manifest, AssetError> {
        Manifest::parse(BUILTIN_MANIFEST, BUILTIN_TABLE)
    }

    /// Parses a manifest and its hash table and checks they agree: every
    /// table entry belongs to exactly one package.
    pub fn parse(manifest_toml: &str, table_tsv: &str) -> Result<Manifest, AssetError> {
        let table = HashTable::parse(table_tsv)?;
        let packages = Manifest::parse_packages(manifest_toml)?;
        let manifest = Manifest { packages, table };
        for asset in manifest.table.entries.keys() {
            let owners: Vec<&str> = manifest
                .packages
                .iter()
                .filter(|p| p.member_of(asset).is_some())
                .map(|p| p.name.as_str())
                .collect();
            if owners.len() != 1 {
                return Err(AssetError::Manifest {
                    what: "sha256.tsv".into(),
                    message: if owners.is_empty() {
                        format!("{asset} is selected by no package; run `garmax models lock`")
                    } else {
                        format!(
                            "{asset} is selected by several packages: {}",
                            owners.join(", ")
                        )
                    },
                });
            }
        }
        Ok(manifest)
    }

    /// Parses only the package list (used by `lock`, which writes the table).
    pub fn parse_packages(manifest_toml: &str) -> Result<Vec<Package>, AssetError> {
        let raw: RawManifest = toml::from_str(manifest_toml).map_err(|e| AssetError::Manifest {
            what: "manifest.toml".into(),
            message: e.to_string(),
        })?;
        let mut names = HashSet::new();
        let mut packages = Vec::with_capacity(raw.package.len());
        for p in raw.package {
            let bad = |message: String| AssetError::Manifest {
                what: format!("package {}", p.name),
                message,
            };
            if !names.insert(p.name.clone()) {
                return Err(bad("listed twice".into()));
            }
            let source = match (p.pip, p.npm) {
                (Some(s), None) => Source::Pip { args: s.args },
                (None, Some(s)) => Source::Npm { args: s.args },
                _ => {
                    return Err(bad(
                        "needs exactly one of [package.pip] or [package.npm]".into()
                    ));
                }
            };
            if p.files.is_empty() {
                return Err(bad("`files` is empty".into()));
            }
            if p.archive.contains('/') || p.archive.is_empty() || p.archive.starts_with('.') {
                return Err(bad(format!(
                    "archive {:?} must be a plain file name",
                    p.archive
                )));
            }
            if !p.dest.is_empty() {
                check_relative(&p.dest).map_err(bad)?;
            }
            let matcher = build_matcher(&p.files).map_err(bad)?;
            packages.push(Package {
                name: p.name,
                version: p.version,
                source,
                archive: p.archive,
                dest: p.dest,
                files: p.files,
                licence: p.licence,
                licence_note: p.licence_note,
                homepage: p.homepage,
                matcher,
            });
        }
        Ok(packages)
    }

    /// The expected entries of one package, in path order.
    pub fn entries_of<'a>(
        &'a self,
        package: &'a Package,
    ) -> impl Iterator<Item = (&'a String, &'a Expected)> + 'a {
        self.table
            .entries
            .iter()
            .filter(move |(asset, _)| package.member_of(asset).is_some())
    }

    /// The package a name refers to (`name` or `name==version`/`name@version`).
    pub fn package(&self, name: &str) -> Option<&Package> {
        self.packages
            .iter()
            .find(|p| p.name == name || p.spec() == name)
    }
}

/// Compiles the `files` patterns. `*` and `?` do not cross `/`, `**` does,
/// so `targets/*` cannot silently pull in whole subtrees.
fn build_matcher(patterns: &[String]) -> Result<GlobSet, String> {
    let mut set = GlobSetBuilder::new();
    for pattern in patterns {
        check_relative(pattern.trim_end_matches("/**")).map_err(|m| format!("files: {m}"))?;
        let glob: Glob = GlobBuilder::new(pattern)
            .literal_separator(true)
            .backslash_escape(true)
            .build()
            .map_err(|e| format!("files: pattern {pattern:?}: {e}"))?;
        set.add(glob);
    }
    set.build().map_err(|e| format!("files: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    const TOML: &str = r#"
[[package]]
name = "demo"
version = "1.0"
archive = "demo-1.0-py3-none-any.whl"
licence = "CC0-1.0"
files = ["demo/data/*.png", "demo/models/**", "demo/LICENSE"]
[package.pip]
args = ["--python-version", "3.11"]

[[package]]
name = "@scope/pics"
version = "2.0.0"
archive = "scope-pics-2.0.0.tgz"
dest = "pics"
licence = "MIT"
files = ["package/demo/sample?.jpg"]
[package.npm]
"#;

    fn tsv(lines: &[&str]) -> String {
        let sha = "a".repeat(64);
        lines.iter().map(|p| format!("{p}\t3\t{sha}\n")).collect()
    }

    #[test]
    fn parses_packages_sources_and_table() {
        let table = tsv(&[
            "demo/data/a.png",
            "demo/models/x/y.bin",
            "pics/package/demo/sample1.jpg",
        ]);
        let m = Manifest::parse(TOML, &table).unwrap();
        assert_eq!(m.packages.len(), 2);
        let demo = &m.packages[0];
        assert_eq!(demo.spec(), "demo==1.0");
        assert_eq!(
            demo.source,
            Source::Pip {
                args: vec!["--python-version".into(), "3.11".into()]
            }
        );
        let pics = &m.packages[1];
        assert_eq!(pics.spec(), "@scope/pics@2.0.0");
        assert_eq!(pics.source, Source::Npm { args: vec![] });
        assert_eq!(m.entries_of(demo).count(), 2);
        assert_eq!(m.entries_of(pics).count(), 1);
        assert_eq!(
            pics.asset_name("package/demo/sample1.jpg"),
            "pics/package/demo/sample1.jpg"
        );
        assert_eq!(
            pics.member_of("pics/package/demo/sample1.jpg"),
            Some("package/demo/sample1.jpg")
        );
        assert!(m.package("demo==1.0").is_some());
    }

    #[test]
    fn glob_star_stays_in_its_directory_and_double_star_does_not() {
        let m = Manifest::parse(TOML, "").unwrap();
        let demo = &m.packages[0];
        assert!(demo.selects("demo/data/a.png"));
        assert!(
            !demo.selects("demo/data/sub/a.png"),
            "`*` must not cross `/`"
        );
        assert!(!demo.selects("demo/data/a.jpg"));
        assert!(demo.selects("demo/models/a/b/c.onnx"));
        assert!(demo.selects("demo/LICENSE"));
        assert!(!demo.selects("demo/LICENSE.txt"));
        assert_eq!(
            demo.unmatched_patterns(["demo/data/a.png", "demo/LICENSE"]),
            vec!["demo/models/**".to_owned()]
        );
        let pics = &m.packages[1];
        assert!(pics.selects("package/demo/sample6.jpg"));
        assert!(!pics.selects("package/demo/sample10.jpg"));
    }

    #[test]
    fn the_builtin_manifest_and_table_agree() {
        let m = Manifest::builtin().unwrap();
        for p in &m.packages {
            assert!(
                m.entries_of(p).count() > 0,
                "{} has no hash entries",
                p.name
            );
            assert!(
                p.unmatched_patterns(m.entries_of(p).filter_map(|(a, _)| p.member_of(a)))
                    .is_empty(),
                "{}: a pattern matches no table entry",
                p.name
            );
        }
        assert!(
            m.table
                .entries
                .contains_key("mediapipe/modules/pose_detection/pose_detection.tflite")
        );
        assert!(
            m.table
                .entries
                .contains_key("onnxruntime/capi/libonnxruntime.so.1.32.0")
        );
    }

    #[test]
    fn bad_input_is_an_error_not_a_panic() {
        for bad in [
            "not toml [[[",
            "[[package]]\nname='x'\n",
            "[[package]]\nname='x'\nversion='1'\narchive='x.whl'\nlicence='MIT'\nfiles=['a']\n",
            "[[package]]\nname='x'\nversion='1'\narchive='x.whl'\nlicence='MIT'\nfiles=['../a']\n[package.pip]\n",
            "[[package]]\nname='x'\nversion='1'\narchive='x.whl'\nlicence='MIT'\nfiles=['a[']\n[package.pip]\n",
            "[[package]]\nname='x'\nversion='1'\narchive='../x.whl'\nlicence='MIT'\nfiles=['a']\n[package.pip]\n",
            "[[package]]\nname='x'\nversion='1'\narchive='x.whl'\nlicence='MIT'\nfiles=['a']\n[package.pip]\n[package.npm]\n",
        ] {
            assert!(
                matches!(Manifest::parse(bad, ""), Err(AssetError::Manifest { .. })),
                "{bad}"
            );
        }
        let sha = "a".repeat(64);
        for bad in [
            "a\t1".to_owned(),
            format!("a\tx\t{sha}"),
            "a\t1\tABC".to_owned(),
            format!("../a\t1\t{sha}"),
            format!("/a\t1\t{sha}"),
            format!("a\t1\t{sha}\na\t1\t{sha}"),
        ] {
            assert!(HashTable::parse(&bad).is_err(), "{bad}");
        }
        // A table entry no package selects means the table is stale.
        assert!(Manifest::parse(TOML, &tsv(&["other/file"])).is_err());
    }

    #[test]
    fn table_round_trips_through_tsv() {
        let t = HashTable::parse(&tsv(&["b/c", "a"])).unwrap();
        assert_eq!(HashTable::parse(&t.to_tsv()).unwrap(), t);
        assert!(t.to_tsv().find("\na\t").unwrap() < t.to_tsv().find("\nb/c\t").unwrap());
    }
}
