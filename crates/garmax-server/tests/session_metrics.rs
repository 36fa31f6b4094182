//! Every generation leaves its metrics for the analytics — a shopper's
//! try-on session as well as a catalogue (enhanced) generation.

mod support;

use garmax_store::users::Role;
use serde_json::Value;
use support::Client;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_try_on_session_is_counted_in_the_analytics() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = support::config(dir.path());
    config.providers.budgets.max_renders_per_user_daily = 100;
    let server = support::Server::start(config, 0).await;
    let store = &server.state.store;
    let shopper = store
        .create_user("sam", Role::User, "pro", 100)
        .await
        .unwrap();
    let admin = store
        .create_user("ops", Role::Admin, "pro", 0)
        .await
        .unwrap();
    let c = Client::new(&server.base, &shopper.api_key);
    let admin = Client::new(&server.base, &admin.api_key);

    let avatar = c.ready_avatar().await;
    let garment = c.garment().await;
    let r = c.session(&avatar, &garment, "sd").await;
    assert_eq!(r.status(), 202);
    let id = r.json::<Value>().await.unwrap()["sessionId"]
        .as_str()
        .unwrap()
        .to_string();
    c.wait(&format!("/api/tryon/sessions/{id}"), 30, |s| {
        s["status"] == "preview_ready"
    })
    .await;

    let (status, a) = admin
        .get_json("/api/admin/analytics?includeDetails=true")
        .await;
    assert_eq!(status, 200, "{a}");
    assert_eq!(a["summary"]["generations"], 1, "{a}");
    let row = &a["details"][0];
    assert_eq!(row["sessionId"], id.as_str(), "{a}");
    assert_eq!(row["attempts"], 1, "{row}");
    assert_eq!(row["provider"], "local", "{row}");
    assert!(row["modelId"].is_null(), "a shopper's own avatar: {row}");
}
