//! Stage 1 of the two-stage generation: the person in the target pose. A
//! user's photo is already posed; a catalogue persona uses its reference
//! photo for the pose, or the body model drawn as a mannequin in that pose
//! ([`garmax_body::poses`]) when the pose has no photo.

use garmax_render::Stage1Source;
use garmax_vision::DecodedImage;

use crate::{Models, PreparedPerson, ProgressSink, TryOnError};

/// The prepared person of a stage-1 source. `load` reads a photo by the
/// name the source gives (the user's path, or a persona's reference: a
/// packaged asset name or a path); a persona reference is then cropped to
/// the persona. A mannequin is drawn from the body model (640×800) in the
/// named pose with its exact landmarks; without a body model, or for a pose
/// name the body model does not know, it is POS_006.
///
/// `load` may fail with the caller's own error type (a file error of the
/// CLI, a storage error of a server); the pipeline's errors convert into it.
pub fn prepare_stage1<E: From<TryOnError>>(
    models: &Models,
    source: &Stage1Source,
    load: impl FnOnce(&str) -> Result<DecodedImage, E>,
    sink: &mut dyn ProgressSink,
) -> Result<PreparedPerson, E> {
    match source {
        Stage1Source::Photo { path } => Ok(crate::prepare_person(models, &load(path)?, sink)?),
        Stage1Source::PersonaReference {
            reference, crop, ..
        } => {
            let mut img = load(reference)?;
            img.rgba = garmax_render::fixtures::crop(&img.rgba, *crop).map_err(TryOnError::from)?;
            Ok(crate::prepare_person(models, &img, sink)?)
        }
        Stage1Source::Mannequin { persona, pose, .. } => match &models.body {
            Some(model) => Ok(prepare_mannequin_in_pose(models, model, pose, sink)?),
            None => Err(
                TryOnError::from(garmax_render::RenderError::PoseWithoutPhoto {
                    persona: persona.clone(),
                    pose: pose.clone(),
                })
                .into(),
            ),
        },
    }
}

/// The body model drawn as a 640×800 mannequin standing with its arms
/// hanging ([`prepare_mannequin_in_pose`] with "Standing").
pub fn prepare_mannequin(
    models: &Models,
    model: &garmax_body::BodyModel,
    sink: &mut dyn ProgressSink,
) -> Result<PreparedPerson, TryOnError> {
    prepare_mannequin_in_pose(models, model, "Standing", sink)
}

/// The body model drawn as a 640×800 mannequin in the named pose
/// (POS_006 listing the known poses for an unknown name), prepared with its
/// exact landmarks and silhouette (no person analysis), and its guidance
/// maps drawn from the exact body (no fit): the depth and parts maps keep a
/// forearm across the chest in front of the torso.
pub fn prepare_mannequin_in_pose(
    models: &Models,
    model: &garmax_body::BodyModel,
    pose: &str,
    sink: &mut dyn ProgressSink,
) -> Result<PreparedPerson, TryOnError> {
    let pose = garmax_body::find_pose(pose)?;
    let m = crate::mannequin::render(model, pose, 640, 800);
    let known = crate::person::KnownPerson {
        landmarks: m.landmarks,
        mask: m.mask,
        body: m.params,
        camera: m.camera,
        source: "rendered mannequin".into(),
    };
    crate::person::prepare(models, &m.photo, Some(known), sink)
}
