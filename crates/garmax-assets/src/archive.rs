//! Streaming the members of a downloaded archive: wheels are zip files, npm
//! packages gzip-compressed tarballs.

use std::fs::File;
use std::io::{BufReader, Read};
use std::path::Path;

use crate::AssetError;

/// A failure while visiting members: either the archive itself is unreadable
/// or the visitor failed (kept apart so callers can tell a corrupt download,
/// worth fetching again, from e.g. a full disk).
pub(crate) enum VisitError {
    Archive(String),
    Visitor(AssetError),
}

/// Calls `visit(member_path, reader)` for every regular file of the archive,
/// in archive order. The reader yields the decompressed bytes; its read
/// errors mean a corrupt archive, so visitors report them through
/// [`VisitError::Archive`].
pub(crate) fn for_each_member(
    path: &Path,
    visit: &mut dyn FnMut(&str, &mut dyn Read) -> Result<(), VisitError>,
) -> Result<(), VisitError> {
    let file = File::open(path)
        .map_err(|e| VisitError::Visitor(AssetError::io("cannot open", path)(e)))?;
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or_default();
    if name.ends_with(".tgz") || name.ends_with(".tar.gz") {
        let mut tar = tar::Archive::new(flate2::read::GzDecoder::new(BufReader::new(file)));
        let entries = tar
            .entries()
            .map_err(|e| VisitError::Archive(e.to_string()))?;
        for entry in entries {
            let mut entry = entry.map_err(|e| VisitError::Archive(e.to_string()))?;
            if !entry.header().entry_type().is_file() {
                continue;
            }
            let member = entry
                .path()
                .map_err(|e| VisitError::Archive(e.to_string()))?;
            // Non-UTF-8 names cannot match any manifest pattern.
            let Some(member) = member.to_str().map(str::to_owned) else {
                continue;
            };
            visit(&member, &mut entry)?;
        }
    } else {
        let mut zip = zip::ZipArchive::new(BufReader::new(file))
            .map_err(|e| VisitError::Archive(e.to_string()))?;
        for i in 0..zip.len() {
            let mut member = zip
                .by_index(i)
                .map_err(|e| VisitError::Archive(e.to_string()))?;
            if !member.is_file() {
                continue;
            }
            // A name that is not valid UTF-8 cannot match a manifest pattern.
            let Ok(name) = member.name().map(|n| n.into_owned()) else {
                continue;
            };
            visit(&name, &mut member)?;
        }
    }
    Ok(())
}
