//! socket.io namespace `/tryon`: the seed's `join-session` / `status-update`.
//!
//! A client authenticates at connect (`auth: {token}`), joins a session's
//! room with `join-session` (only the owner is admitted) and receives every
//! `status-update` of that session, starting with its current state. Events
//! come from the store's channel, which carries the events of every process
//! (see `garmax_store::events`), so this process forwards what any worker
//! wrote.

use garmax_store::sessions::SessionEvent;
use serde::Deserialize;
use socketioxide::SocketIo;
use socketioxide::extract::{Data, SocketRef, State, TryData};
use socketioxide::handler::ConnectHandler as _;
use socketioxide::layer::SocketIoLayer;
use tokio::sync::broadcast;

use crate::state::AppState;
use crate::views::StatusUpdate;

pub const NAMESPACE: &str = "/tryon";

#[derive(Deserialize)]
struct AuthPayload {
    token: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct JoinRequest {
    session_id: String,
}

/// The user id of an authenticated socket.
#[derive(Clone)]
struct SocketUser(String);

#[derive(Debug)]
struct Refused(String);

impl std::fmt::Display for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

async fn authenticate(
    s: SocketRef,
    State(state): State<AppState>,
    auth: TryData<AuthPayload>,
) -> Result<(), Refused> {
    let TryData(Ok(auth)) = auth else {
        return Err(Refused(
            "AUTH_020: connect with auth {token: <api key>}".into(),
        ));
    };
    match crate::auth::authenticate(&state, &auth.token).await {
        Ok(user) => {
            s.extensions.insert(SocketUser(user.id));
            Ok(())
        }
        Err(e) => Err(Refused(format!("{}: {}", e.code, e.message))),
    }
}

async fn on_connect(s: SocketRef) {
    s.on("join-session", join_session);
}

async fn join_session(s: SocketRef, State(state): State<AppState>, Data(req): Data<JoinRequest>) {
    let Some(SocketUser(user_id)) = s.extensions.get::<SocketUser>() else {
        return;
    };
    match state.store.session(&user_id, &req.session_id).await {
        Ok(session) => {
            s.join(session.id.clone());
            // The current state first, so a late joiner knows where it is.
            if let Ok(Some(last)) = state.store.last_event(&session.id).await {
                let _ = s.emit("status-update", &StatusUpdate::from(&last));
            }
        }
        Err(_) => {
            let _ = s.emit(
                "error",
                &serde_json::json!({ "code": "NOT_022", "message": "no such session", "sessionId": req.session_id }),
            );
        }
    }
}

/// The socket.io layer and its handle; events start flowing once
/// [`forward`] runs.
pub fn layer(state: AppState) -> (SocketIoLayer, SocketIo) {
    let (layer, io) = SocketIo::builder()
        .with_state(state)
        .max_payload(64 * 1024)
        .build_layer();
    io.ns(NAMESPACE, on_connect.with(authenticate));
    (layer, io)
}

/// Forwards every session event to its room on this process.
pub async fn forward(io: SocketIo, mut events: broadcast::Receiver<SessionEvent>) {
    loop {
        match events.recv().await {
            Ok(e) => {
                if let Some(ns) = io.of(NAMESPACE) {
                    let _ = ns
                        .to(e.session_id.clone())
                        .emit("status-update", &StatusUpdate::from(&e))
                        .await;
                }
            }
            Err(broadcast::error::RecvError::Lagged(n)) => {
                tracing::warn!("socket.io forwarding lagged by {n} events");
            }
            Err(broadcast::error::RecvError::Closed) => return,
        }
    }
}
