//! The persona catalogue: seeding the database from `config/personas.toml`
//! on first start, and turning a pose's reference photo into something the
//! local pipeline renders onto — a catalogue avatar, processed once by the
//! ordinary avatar job (person analysis, body fit, guidance maps) and reused
//! by every generation of that pose.

use std::path::{Path, PathBuf};

use garmax_render::persona::PersonaCatalog;
use garmax_store::StoreError;
use garmax_store::objects::{ObjectKey, Owner};
use garmax_store::personas::PersonaInput;
use garmax_store::queue::NewJob;

use crate::state::AppState;
use crate::worker::jobs;

/// The marker of the one-time seeding (first process to start wins).
const SEEDED: &str = "personas-seeded";

/// Seeds the catalogue from `config.personas_file` once per database;
/// returns the personas created (0 when seeded before or no file is set).
pub async fn seed(state: &AppState) -> Result<usize, StoreError> {
    let Some(path) = state.config.personas_file.clone() else {
        return Ok(0);
    };
    let text = std::fs::read_to_string(&path)
        .map_err(|e| StoreError::Config(format!("reading {}: {e}", path.display())))?;
    let catalog = PersonaCatalog::from_toml(&text)
        .map_err(|e| StoreError::Config(format!("{}: {e}", path.display())))?;
    if !state.store.claim_marker(SEEDED).await? {
        return Ok(0);
    }
    let base = path.parent().map(Path::to_path_buf).unwrap_or_default();
    let mut created = 0;
    for p in &catalog.personas {
        let input = PersonaInput {
            id: p.id.clone(),
            name: p.name.clone(),
            characteristics: p.characteristics.clone(),
            poses: p.poses.iter().map(|x| x.name.clone()).collect(),
            consistency_threshold: p.consistency_threshold as f64,
        };
        match state.store.create_persona(&input).await {
            Ok(_) => created += 1,
            Err(StoreError::Conflict(_)) => continue,
            Err(e) => return Err(e),
        }
        for pose in &p.poses {
            let Some(reference) = &pose.reference else {
                continue;
            };
            let photo = match reference_png(&base, reference, pose.crop) {
                Ok(photo) => photo,
                Err(e) => {
                    // A missing packaged photo leaves the pose without a
                    // reference (POS_006 until an admin uploads one).
                    tracing::warn!(persona = %p.id, pose = %pose.name, "reference photo: {e}");
                    continue;
                }
            };
            set_reference(state, &p.id, &pose.name, photo).await?;
        }
    }
    tracing::info!(created, file = %path.display(), "persona catalogue seeded");
    Ok(created)
}

/// Stores `photo` as a new catalogue avatar, makes it the reference of the
/// pose and enqueues its processing.
pub async fn set_reference(
    state: &AppState,
    persona: &str,
    pose: &str,
    photo: Vec<u8>,
) -> Result<String, StoreError> {
    let avatar = garmax_store::new_id();
    state
        .objects
        .put(&ObjectKey::new(Owner::Avatar, &avatar, "photo")?, photo)
        .await?;
    let job = NewJob::new(jobs::AVATAR, serde_json::json!({ "avatarId": avatar }))
        .priority(jobs::AVATAR_PRIORITY)
        .max_attempts(state.config.job_max_attempts);
    state
        .store
        .set_pose_reference(persona, pose, &avatar, &job)
        .await?;
    Ok(avatar)
}

/// A reference named in the catalogue: a file (relative to the catalogue
/// file's directory) or a packaged asset, cropped, as PNG.
fn reference_png(base: &Path, reference: &str, crop: Option<[u32; 4]>) -> Result<Vec<u8>, String> {
    let path = resolve(base, reference)?;
    let bytes = std::fs::read(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    let decoded = garmax_vision::decode_image(&bytes, &garmax_vision::ImageLimits::default())
        .map_err(|e| e.to_string())?;
    let cropped = garmax_render::fixtures::crop(&decoded.rgba, crop).map_err(|e| e.to_string())?;
    let mut png = Vec::new();
    image::DynamicImage::ImageRgba8(cropped)
        .write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
        .map_err(|e| e.to_string())?;
    Ok(png)
}

fn resolve(base: &Path, reference: &str) -> Result<PathBuf, String> {
    let as_path = Path::new(reference);
    let candidate = if as_path.is_absolute() {
        as_path.to_path_buf()
    } else {
        base.join(as_path)
    };
    if candidate.is_file() {
        return Ok(candidate);
    }
    let cache = garmax_assets::Cache::resolve().map_err(|e| e.to_string())?;
    let asset = cache.asset(reference);
    if asset.is_file() {
        Ok(asset)
    } else {
        Err(format!(
            "'{reference}' is neither a file nor a fetched asset (run `garmax models fetch`)"
        ))
    }
}
