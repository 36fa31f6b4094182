//! socket.io namespace `/tryon`: the seed's `join-session` / `status-update`.
//!
//! A client authenticates at connect (`auth: {token}`), joins a session's
//! room with `join-session` (only the owner is admitted) and receives every
//! `status-update` of that session: first the stored ones it has not seen
//! (all of them, or those after the `lastSeq` it sends when it rejoins),
//! then each new one as it happens. Clients de-duplicate by `seq`. Events
//! come from the store's channel, which carries the events of every process
//! (see `garmax_store::events`), so this process forwards what any worker
//! wrote.

use garmax_store::Store;
use garmax_store::sessions::SessionEvent;
use serde::Deserialize;
use socketioxide::SocketIo;
use socketioxide::extract::{Data, SocketRef, State, TryData};
use socketioxide::handler::ConnectHandler as _;
use socketioxide::layer::SocketIoLayer;
use tokio::sync::{broadcast, mpsc};

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
    /// The last `seq` the client has (a rejoin after a reconnect).
    #[serde(default)]
    last_seq: i64,
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

/// A socket admitted to a session's room, waiting for its history.
struct Join {
    socket: SocketRef,
    session_id: String,
    after_seq: i64,
}

/// Hands joins to the forwarder, which serves them in line with the live
/// events (see [`forward`]).
#[derive(Clone)]
struct Joins(mpsc::UnboundedSender<Join>);

async fn join_session(
    s: SocketRef,
    State(state): State<AppState>,
    State(joins): State<Joins>,
    Data(req): Data<JoinRequest>,
) {
    let Some(SocketUser(user_id)) = s.extensions.get::<SocketUser>() else {
        return;
    };
    match state.store.session(&user_id, &req.session_id).await {
        Ok(session) => {
            let _ = joins.0.send(Join {
                socket: s,
                session_id: session.id,
                after_seq: req.last_seq,
            });
        }
        Err(_) => {
            let _ = s.emit(
                "error",
                &serde_json::json!({ "code": "NOT_022", "message": "no such session", "sessionId": req.session_id }),
            );
        }
    }
}

/// The socket.io layer, and the [`Forwarder`] that feeds its rooms.
pub fn layer(state: AppState) -> (SocketIoLayer, Forwarder) {
    let (tx, joins) = mpsc::unbounded_channel();
    let store = state.store.clone();
    let (layer, io) = SocketIo::builder()
        .with_state(state)
        .with_state(Joins(tx))
        .max_payload(64 * 1024)
        .build_layer();
    io.ns(NAMESPACE, on_connect.with(authenticate));
    let forwarder = Forwarder { io, store, joins };
    (layer, forwarder)
}

/// What moves events to sockets on this process; run it with [`forward`].
pub struct Forwarder {
    io: SocketIo,
    store: Store,
    joins: mpsc::UnboundedReceiver<Join>,
}

/// Forwards every session event to its room on this process, and serves
/// joins in the same task: a joining socket gets the stored history and
/// enters the room before the next live event is forwarded, so it sees
/// every event in order (one already in the history may come again live;
/// clients drop a repeated `seq`).
pub async fn forward(mut f: Forwarder, mut events: broadcast::Receiver<SessionEvent>) {
    loop {
        tokio::select! {
            Some(join) = f.joins.recv() => serve_join(&f.store, join).await,
            event = events.recv() => match event {
                Ok(e) => {
                    if let Some(ns) = f.io.of(NAMESPACE) {
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
            },
        }
    }
}

async fn serve_join(store: &Store, join: Join) {
    match store.events_after(&join.session_id, join.after_seq).await {
        Ok(history) => {
            for e in &history {
                let _ = join.socket.emit("status-update", &StatusUpdate::from(e));
            }
        }
        Err(e) => tracing::warn!(session = %join.session_id, "replaying events on join: {e}"),
    }
    join.socket.join(join.session_id);
}
