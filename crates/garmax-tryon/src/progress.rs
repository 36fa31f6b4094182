//! Progress stages of a try-on, on the seed's progress map.

/// A point a try-on reaches, in order. [`Stage::key`] and
/// [`Stage::progress`] are the seed's status event and percentage for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Stage {
    /// Avatar processing begins (person analysis is starting).
    Start,
    /// The person analysis (landmarks, mask, face) is done.
    PersonAnalysis,
    /// The body is fitted to the landmarks and silhouette.
    BodyFit,
    /// The guidance maps (depth, normals, parts, segmentation, pose) and
    /// `body.glb` are rasterised: the avatar is ready.
    GuidanceMaps,
    /// The render's inputs are ready and it is waiting for the provider.
    Queued,
    /// Render attempt `attempt` (1-based) is running.
    Render { attempt: u32 },
    /// Render attempt `attempt` is done and being validated.
    Validation { attempt: u32 },
    /// The best attempt is chosen; the outcome is being assembled.
    Finalizing,
    /// Everything is delivered (reported by the caller once it has stored
    /// or written the outcome).
    Complete,
}

impl Stage {
    /// The seed's status key: `smpl-start`, `smpl-pose-complete`,
    /// `smpl-mesh-complete`, `smpl-guidance-complete`, `ai-queued`,
    /// `ai-processing`, `ai-complete`, `finalizing`, `complete`.
    pub fn key(&self) -> &'static str {
        match self {
            Stage::Start => "smpl-start",
            Stage::PersonAnalysis => "smpl-pose-complete",
            Stage::BodyFit => "smpl-mesh-complete",
            Stage::GuidanceMaps => "smpl-guidance-complete",
            Stage::Queued => "ai-queued",
            Stage::Render { .. } => "ai-processing",
            Stage::Validation { .. } => "ai-complete",
            Stage::Finalizing => "finalizing",
            Stage::Complete => "complete",
        }
    }

    /// The seed's percentage for [`Stage::key`].
    pub fn progress(&self) -> u8 {
        match self {
            Stage::Start => 10,
            Stage::PersonAnalysis => 25,
            Stage::BodyFit => 40,
            Stage::GuidanceMaps => 50,
            Stage::Queued => 60,
            Stage::Render { .. } => 75,
            Stage::Validation { .. } => 90,
            Stage::Finalizing => 95,
            Stage::Complete => 100,
        }
    }

    /// The retry attempt of a render or validation stage.
    pub fn attempt(&self) -> Option<u32> {
        match self {
            Stage::Render { attempt } | Stage::Validation { attempt } => Some(*attempt),
            _ => None,
        }
    }
}

/// Receives the stages of a try-on as they are reached, with a short
/// human-readable message. Called on the pipeline's thread; keep it cheap.
pub trait ProgressSink {
    fn stage(&mut self, stage: Stage, message: &str);
}

/// A sink that ignores everything.
pub struct NoProgress;

impl ProgressSink for NoProgress {
    fn stage(&mut self, _: Stage, _: &str) {}
}

impl<F: FnMut(Stage, &str)> ProgressSink for F {
    fn stage(&mut self, stage: Stage, message: &str) {
        self(stage, message)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stages_follow_the_seed_progress_map() {
        let map = [
            (Stage::Start, "smpl-start", 10),
            (Stage::PersonAnalysis, "smpl-pose-complete", 25),
            (Stage::BodyFit, "smpl-mesh-complete", 40),
            (Stage::GuidanceMaps, "smpl-guidance-complete", 50),
            (Stage::Queued, "ai-queued", 60),
            (Stage::Render { attempt: 2 }, "ai-processing", 75),
            (Stage::Validation { attempt: 2 }, "ai-complete", 90),
            (Stage::Finalizing, "finalizing", 95),
            (Stage::Complete, "complete", 100),
        ];
        let mut last = 0;
        for (stage, key, pct) in map {
            assert_eq!(stage.key(), key);
            assert_eq!(stage.progress(), pct);
            assert!(pct > last, "progress only grows");
            last = pct;
        }
        assert_eq!(Stage::Render { attempt: 3 }.attempt(), Some(3));
        assert_eq!(Stage::Start.attempt(), None);
    }
}
