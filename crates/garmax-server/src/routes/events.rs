//! `GET /api/tryon/sessions/{id}/events`: the session's status updates as
//! server-sent events. Stored events after `Last-Event-ID` are replayed
//! first, then live ones follow; the stream ends after a terminal status.

use std::convert::Infallible;
use std::time::Duration;

use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse as _, Response};
use garmax_core::session::SessionStatus;
use garmax_store::sessions::SessionEvent;
use tokio::sync::{broadcast, mpsc};
use tokio_stream::wrappers::ReceiverStream;

use crate::auth::Caller;
use crate::error::ApiResult;
use crate::state::AppState;
use crate::views::StatusUpdate;

/// An open stream lives at most this long; clients reconnect and resume.
const MAX_STREAM: Duration = Duration::from_secs(3600);

/// Live status updates of a session (SSE; `Last-Event-ID` resumes).
#[utoipa::path(get, path = "/api/tryon/sessions/{id}/events", security(("bearer" = [])),
    responses((status = 200, content_type = "text/event-stream", body = StatusUpdate),
        (status = 404, body = crate::error::ErrorBody)))]
pub async fn stream(
    Caller(user): Caller,
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let session = state.store.session(&user.id, &id).await?;
    let after = headers
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<i64>().ok())
        .unwrap_or(0);
    // Subscribe before reading the stored events, so nothing falls between.
    let live = state.store.subscribe();
    let (tx, rx) = mpsc::channel(64);
    let store = state.store.clone();
    tokio::spawn(async move {
        let _ = tokio::time::timeout(MAX_STREAM, pump(store, session.id, after, live, tx)).await;
    });
    let sse = Sse::new(ReceiverStream::new(rx))
        .keep_alive(KeepAlive::new().interval(Duration::from_secs(15)));
    Ok(sse.into_response())
}

fn sse_event(e: &SessionEvent) -> Event {
    let data = serde_json::to_string(&StatusUpdate::from(e)).unwrap_or_else(|_| "{}".into());
    Event::default()
        .event("status-update")
        .id(e.seq.to_string())
        .data(data)
}

fn is_terminal(e: &SessionEvent) -> bool {
    SessionStatus::parse(&e.status).is_some_and(SessionStatus::is_terminal)
}

/// Sends stored events after `after`, then live ones, in `seq` order and
/// without repeats; a lagging subscriber catches up from the table.
async fn pump(
    store: garmax_store::Store,
    id: String,
    mut after: i64,
    mut live: broadcast::Receiver<SessionEvent>,
    tx: mpsc::Sender<Result<Event, Infallible>>,
) {
    loop {
        let Ok(stored) = store.events_after(&id, after).await else {
            return;
        };
        for e in &stored {
            if tx.send(Ok(sse_event(e))).await.is_err() {
                return;
            }
            after = e.seq;
            if is_terminal(e) {
                return;
            }
        }
        loop {
            match live.recv().await {
                Ok(e) if e.session_id == id && e.seq > after => {
                    if e.seq != after + 1 {
                        // A gap (events committed out of delivery order):
                        // fill it from the table.
                        break;
                    }
                    if tx.send(Ok(sse_event(&e))).await.is_err() {
                        return;
                    }
                    after = e.seq;
                    if is_terminal(&e) {
                        return;
                    }
                }
                Ok(_) => {}
                Err(broadcast::error::RecvError::Lagged(_)) => break,
                Err(broadcast::error::RecvError::Closed) => return,
            }
        }
    }
}
