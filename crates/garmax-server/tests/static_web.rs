//! The studio served by `garmax serve --web-dir`: hashed assets cached for
//! ever, the page revalidated, client routes answered with the page — and
//! an unknown API path a JSON 404, not the page.

mod support;

use serde_json::Value;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_studio_is_served_and_unknown_api_paths_are_json_404s() {
    let dir = tempfile::tempdir().unwrap();
    let web = dir.path().join("web");
    std::fs::create_dir_all(web.join("assets")).unwrap();
    std::fs::write(
        web.join("index.html"),
        "<!doctype html><title>studio</title>",
    )
    .unwrap();
    std::fs::write(web.join("assets/app-1a2b.js"), "console.log(1)").unwrap();
    let mut config = support::config(&dir.path().join("data"));
    config.web_dir = Some(web);
    let server = support::Server::start(config, 0).await;
    let http = reqwest::Client::new();
    let get = |path: &str| http.get(format!("{}{path}", server.base)).send();

    for page in ["/", "/admin/dashboard"] {
        let r = get(page).await.unwrap();
        assert_eq!(r.status(), 200, "{page}");
        assert_eq!(r.headers()["cache-control"], "no-cache", "{page}");
        assert!(r.text().await.unwrap().contains("<title>studio"), "{page}");
    }
    let r = get("/assets/app-1a2b.js").await.unwrap();
    assert_eq!(r.status(), 200);
    assert!(
        r.headers()["cache-control"]
            .to_str()
            .unwrap()
            .contains("immutable")
    );

    for path in [
        "/api/admin/no-such-panel",
        "/api/nope",
        "/api/tryon/sessions/x/y/z",
    ] {
        let r = get(path).await.unwrap();
        assert_eq!(r.status(), 404, "{path}");
        assert!(
            r.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with("application/json"),
            "{path}"
        );
        let body: Value = r.json().await.unwrap();
        assert!(body["error"]["code"].is_string(), "{path}: {body}");
    }
    // Known routes are unchanged: no key is still 401.
    assert_eq!(get("/api/tryon/sessions").await.unwrap().status(), 401);
    server.stop().await;
}
