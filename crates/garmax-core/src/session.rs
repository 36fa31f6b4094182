//! The try-on session state machine and the seed's progress map.
//!
//! ```text
//! queued ──► processing ──► preview_ready ──► confirmed
//!   │            │                │ └──────► rejected
//!   │            ▼                ▼
//!   └──────► cancelled ◄──────────┘        failed ◄── queued | processing
//! ```
//! Confirmed, rejected, cancelled and failed are terminal: the pipeline
//! never touches them again. The one move out of `confirmed` is the user's
//! refund within the window of [`crate::billing::REFUND_WINDOW_MS`], which
//! ends the session `cancelled`.

use std::fmt;

/// Where a session is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SessionStatus {
    Queued,
    Processing,
    PreviewReady,
    Confirmed,
    Rejected,
    Cancelled,
    Failed,
}

/// What can happen to a session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionAction {
    /// A worker starts the pipeline (again, after a crash).
    Start,
    /// The preview is stored.
    PreviewReady,
    /// The user (or the auto-confirm timer) accepts the preview.
    Confirm,
    Reject,
    Cancel,
    /// The pipeline gave up.
    Fail,
    /// The user takes back a confirmed (charged) session within the refund
    /// window; the store checks the window and refunds the charge.
    Refund,
}

/// A transition the state machine does not allow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("a {from} session cannot be {action:?}")]
pub struct InvalidTransition {
    pub from: SessionStatus,
    pub action: SessionAction,
}

impl SessionStatus {
    pub const ALL: [SessionStatus; 7] = [
        SessionStatus::Queued,
        SessionStatus::Processing,
        SessionStatus::PreviewReady,
        SessionStatus::Confirmed,
        SessionStatus::Rejected,
        SessionStatus::Cancelled,
        SessionStatus::Failed,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            SessionStatus::Queued => "queued",
            SessionStatus::Processing => "processing",
            SessionStatus::PreviewReady => "preview_ready",
            SessionStatus::Confirmed => "confirmed",
            SessionStatus::Rejected => "rejected",
            SessionStatus::Cancelled => "cancelled",
            SessionStatus::Failed => "failed",
        }
    }

    pub fn parse(s: &str) -> Option<SessionStatus> {
        SessionStatus::ALL.into_iter().find(|v| v.as_str() == s)
    }

    pub const fn is_terminal(self) -> bool {
        matches!(
            self,
            SessionStatus::Confirmed
                | SessionStatus::Rejected
                | SessionStatus::Cancelled
                | SessionStatus::Failed
        )
    }

    /// The state after `action`, or why it is not allowed.
    pub fn apply(self, action: SessionAction) -> Result<SessionStatus, InvalidTransition> {
        use SessionAction as A;
        use SessionStatus as S;
        let next = match (self, action) {
            // A retried job starts a session that is already processing.
            (S::Queued | S::Processing, A::Start) => S::Processing,
            (S::Processing, A::PreviewReady) => S::PreviewReady,
            (S::PreviewReady, A::Confirm) => S::Confirmed,
            (S::PreviewReady, A::Reject) => S::Rejected,
            (S::Queued | S::Processing | S::PreviewReady, A::Cancel) => S::Cancelled,
            (S::Queued | S::Processing, A::Fail) => S::Failed,
            (S::Confirmed, A::Refund) => S::Cancelled,
            (from, action) => return Err(InvalidTransition { from, action }),
        };
        Ok(next)
    }
}

impl fmt::Display for SessionStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The seed's progress map: each stage of a session and its percentage.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ProgressStage {
    Queued,
    SmplStart,
    SmplPoseComplete,
    SmplMeshComplete,
    SmplGuidanceComplete,
    AiQueued,
    AiProcessing,
    AiComplete,
    Finalizing,
    Complete,
}

impl ProgressStage {
    pub const ALL: [ProgressStage; 10] = [
        ProgressStage::Queued,
        ProgressStage::SmplStart,
        ProgressStage::SmplPoseComplete,
        ProgressStage::SmplMeshComplete,
        ProgressStage::SmplGuidanceComplete,
        ProgressStage::AiQueued,
        ProgressStage::AiProcessing,
        ProgressStage::AiComplete,
        ProgressStage::Finalizing,
        ProgressStage::Complete,
    ];

    /// The key clients see (`smpl-pose-complete`, …).
    pub const fn key(self) -> &'static str {
        match self {
            ProgressStage::Queued => "queued",
            ProgressStage::SmplStart => "smpl-start",
            ProgressStage::SmplPoseComplete => "smpl-pose-complete",
            ProgressStage::SmplMeshComplete => "smpl-mesh-complete",
            ProgressStage::SmplGuidanceComplete => "smpl-guidance-complete",
            ProgressStage::AiQueued => "ai-queued",
            ProgressStage::AiProcessing => "ai-processing",
            ProgressStage::AiComplete => "ai-complete",
            ProgressStage::Finalizing => "finalizing",
            ProgressStage::Complete => "complete",
        }
    }

    /// The seed's percentage for the stage.
    pub const fn progress(self) -> u8 {
        match self {
            ProgressStage::Queued => 0,
            ProgressStage::SmplStart => 10,
            ProgressStage::SmplPoseComplete => 25,
            ProgressStage::SmplMeshComplete => 40,
            ProgressStage::SmplGuidanceComplete => 50,
            ProgressStage::AiQueued => 60,
            ProgressStage::AiProcessing => 75,
            ProgressStage::AiComplete => 90,
            ProgressStage::Finalizing => 95,
            ProgressStage::Complete => 100,
        }
    }

    pub fn parse(key: &str) -> Option<ProgressStage> {
        ProgressStage::ALL.into_iter().find(|s| s.key() == key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn terminal_states_accept_nothing_but_a_refund_of_a_confirmed_one() {
        let actions = [
            SessionAction::Start,
            SessionAction::PreviewReady,
            SessionAction::Confirm,
            SessionAction::Reject,
            SessionAction::Cancel,
            SessionAction::Fail,
            SessionAction::Refund,
        ];
        for s in SessionStatus::ALL.into_iter().filter(|s| s.is_terminal()) {
            for a in actions {
                if (s, a) == (SessionStatus::Confirmed, SessionAction::Refund) {
                    assert_eq!(s.apply(a), Ok(SessionStatus::Cancelled));
                } else {
                    assert!(s.apply(a).is_err(), "{s} accepted {a:?}");
                }
            }
        }
        for s in SessionStatus::ALL
            .into_iter()
            .filter(|s| *s != SessionStatus::Confirmed)
        {
            assert!(s.apply(SessionAction::Refund).is_err(), "{s} refunded");
        }
    }

    #[test]
    fn the_happy_path_and_its_exits() {
        let s = SessionStatus::Queued;
        let s = s.apply(SessionAction::Start).unwrap();
        assert_eq!(s.apply(SessionAction::Start), Ok(SessionStatus::Processing));
        let p = s.apply(SessionAction::PreviewReady).unwrap();
        assert_eq!(
            p.apply(SessionAction::Confirm),
            Ok(SessionStatus::Confirmed)
        );
        assert_eq!(p.apply(SessionAction::Reject), Ok(SessionStatus::Rejected));
        assert_eq!(p.apply(SessionAction::Cancel), Ok(SessionStatus::Cancelled));
        assert!(p.apply(SessionAction::Fail).is_err());
        assert!(SessionStatus::Queued.apply(SessionAction::Confirm).is_err());
    }

    #[test]
    fn progress_map_is_the_seeds_and_increases() {
        let p: Vec<u8> = ProgressStage::ALL.iter().map(|s| s.progress()).collect();
        assert_eq!(p, [0, 10, 25, 40, 50, 60, 75, 90, 95, 100]);
        for s in ProgressStage::ALL {
            assert_eq!(ProgressStage::parse(s.key()), Some(s));
            assert_eq!(
                SessionStatus::parse(SessionStatus::Queued.as_str()),
                Some(SessionStatus::Queued)
            );
        }
    }
}
