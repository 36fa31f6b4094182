//! Authorization and hostile input against the real `garmax serve`: other
//! users' objects are 404 on every route, keys and roles are enforced, SSRF
//! is refused, oversize and non-image uploads get their codes, and random
//! garbage never crashes the server.

mod support;

use serde_json::json;
use support::{Backend, Client, serve};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn users_see_only_their_own_objects_and_roles_are_enforced() {
    let dir = tempfile::tempdir().unwrap();
    let backend = Backend::embedded(dir.path());
    let key_a = backend.create_user("a", false, 100);
    let key_b = backend.create_user("b", false, 100);
    let key_admin = backend.create_user("root", true, 0);
    let server = serve(&backend, &["--workers", "1", "--auto-confirm-secs", "600"]);
    let a = Client::new(&server.base, &key_a);
    let b = Client::new(&server.base, &key_b);
    let avatar = a.ready_avatar().await;
    let garment = a.garment().await;
    let session = a.create_session(&avatar, &garment, "sd").await;
    a.wait_session(&session, 300, |s| s["status"] == "preview_ready")
        .await;

    let gets = [
        format!("/api/avatars/{avatar}"),
        format!("/api/avatars/{avatar}/files/photo"),
        format!("/api/avatars/{avatar}/files/body.glb"),
        format!("/api/garments/{garment}"),
        format!("/api/garments/{garment}/image"),
        format!("/api/tryon/sessions/{session}"),
        format!("/api/tryon/sessions/{session}/preview"),
        format!("/api/tryon/sessions/{session}/result"),
        format!("/api/tryon/sessions/{session}/events"),
    ];
    for path in &gets {
        let (status, body) = b.get_json(path).await;
        assert_eq!(status, 404, "B GET {path}: {body}");
        assert_eq!(body["error"]["code"], "NOT_022");
    }
    for action in ["confirm", "reject", "cancel"] {
        let (status, _) = b
            .post_json(
                &format!("/api/tryon/sessions/{session}/{action}"),
                &json!({}),
            )
            .await;
        assert_eq!(status, 404, "B {action}");
    }
    assert_eq!(b.delete(&format!("/api/avatars/{avatar}")).await, 404);
    // B cannot start a session on A's avatar or garment either.
    let b_garment = b.garment().await;
    let (status, _) = b
        .post_json(
            "/api/tryon/sessions",
            &json!({"avatarId": avatar, "garmentId": b_garment, "quality": "sd"}),
        )
        .await;
    assert_eq!(status, 404);
    let (_, list) = b.get_json("/api/tryon/sessions").await;
    assert!(list["items"].as_array().unwrap().is_empty());
    let (_, list) = b.get_json("/api/avatars").await;
    assert!(list["items"].as_array().unwrap().is_empty());
    // A's socket-less view still works.
    assert_eq!(
        a.get(&format!("/api/tryon/sessions/{session}/preview"))
            .await
            .status(),
        200
    );
    // B's socket cannot join A's session.
    // (rust_socketio may drop an emit made while the connection settles,
    // so the join is sent again until the server answers.)
    let mut sb = support::socket(&server.base, &key_b).await;
    let mut answer = None;
    for _ in 0..5 {
        sb.join(&session).await;
        if let Ok(err) =
            tokio::time::timeout(std::time::Duration::from_secs(5), sb.errors.recv()).await
        {
            answer = err;
            break;
        }
    }
    let err = answer.expect("B's join answered with an error");
    assert_eq!(err["code"], "NOT_022");
    assert!(sb.updates.try_recv().is_err(), "no update leaked to B");

    // No key, a bad key, a revoked key: 401.
    let anon = reqwest::Client::new();
    for path in ["/api/me", "/api/avatars", &gets[0]] {
        let r = anon
            .get(format!("{}{path}", server.base))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 401, "{path}");
    }
    let bad = Client::new(&server.base, "gmx_not-a-key");
    assert_eq!(bad.get_json("/api/me").await.0, 401);
    let out = backend
        .command(&["users", "revoke", "--name", "b"])
        .output()
        .unwrap();
    assert!(out.status.success());
    assert_eq!(
        b.get_json("/api/me").await.0,
        401,
        "a revoked key stops working"
    );
    // Admin routes: 403 for users, 200 for admins.
    assert_eq!(a.get_json("/api/admin/queue").await.0, 403);
    assert_eq!(a.get_json("/api/admin/users").await.0, 403);
    let admin = Client::new(&server.base, &key_admin);
    let (status, users) = admin.get_json("/api/admin/users").await;
    assert_eq!(status, 200);
    assert_eq!(users.as_array().unwrap().len(), 3);
    assert_eq!(admin.get_json("/api/admin/queue").await.0, 200);
    // The router (issue 10): providers status for admins only; the render
    // went through `local`, recorded in the session and the metrics.
    assert_eq!(a.get_json("/api/admin/providers").await.0, 403);
    let (status, providers) = admin.get_json("/api/admin/providers").await;
    assert_eq!(status, 200, "{providers}");
    assert_eq!(providers["defaultChain"], json!(["local"]), "{providers}");
    assert!(
        providers["status"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["name"] == "local" && p["breaker"] == "closed"),
        "{providers}"
    );
    assert_eq!(providers["allowBedrockFailover"], false);
    let (_, view) = a.get_json(&format!("/api/tryon/sessions/{session}")).await;
    let calls = view["providerAttempts"].as_array().unwrap();
    assert!(!calls.is_empty(), "{view}");
    assert!(
        calls
            .iter()
            .all(|c| c["provider"] == "local" && c["outcome"] == "success" && c["costUsd"] == 0.0),
        "{view}"
    );
    let metrics = reqwest::get(format!("{}/metrics", server.base))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains("garmax_provider_requests_total{provider=\"local\",outcome=\"success\"}"),
        "{metrics}"
    );
    // Deleting works for the owner.
    assert_eq!(a.delete(&format!("/api/avatars/{avatar}")).await, 204);
    assert_eq!(a.get_json(&format!("/api/avatars/{avatar}")).await.0, 404);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_input_gets_coded_errors_and_never_crashes_the_server() {
    let dir = tempfile::tempdir().unwrap();
    let backend = Backend::embedded(dir.path());
    let key = backend.create_user("fuzz", false, 100);
    let server = serve(
        &backend,
        &[
            "--workers",
            "0",
            "--rate-limit",
            "1000",
            "--rate-burst",
            "1000",
            "--allowed-image-hosts",
            "localhost,127.0.0.1,10.0.0.1,169.254.169.254,[::1]",
        ],
    );
    let c = Client::new(&server.base, &key);

    // Not an image; a truncated PNG; a decompression bomb header; too big.
    let (status, body) = c
        .upload("/api/garments", "image", b"hello, not an image".to_vec())
        .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (422, Some("IMG_004")),
        "{body}"
    );
    let png = support::garment_photo();
    let (status, body) = c
        .upload("/api/avatars", "photo", png[..png.len() / 3].to_vec())
        .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (422, Some("IMG_004")),
        "{body}"
    );
    let (status, body) = c
        .upload("/api/avatars", "photo", bomb_png(60_000, 60_000))
        .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (413, Some("IMG_007")),
        "{body}"
    );
    // Too big: the server answers 413 before reading it all and closes.
    let mut huge =
        b"--x\r\nContent-Disposition: form-data; name=\"image\"; filename=\"a.png\"\r\n\r\n"
            .to_vec();
    huge.extend(std::iter::repeat_n(0u8, 21 * 1024 * 1024));
    huge.extend_from_slice(b"\r\n--x--\r\n");
    let multipart = "multipart/form-data; boundary=x";
    assert_eq!(
        raw_post_status(&server.base, "/api/garments", &key, multipart, &huge).await,
        413
    );
    let (status, body) = c.upload("/api/garments", "wrong-field", png.clone()).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (400, Some("REQ_019"))
    );
    // An oversize JSON body.
    let big = json!({ "avatarId": "x".repeat(200_000) }).to_string();
    assert_eq!(
        raw_post_status(
            &server.base,
            "/api/tryon/sessions",
            &key,
            "application/json",
            big.as_bytes()
        )
        .await,
        413
    );
    // Malformed requests.
    for body in [
        json!({}),
        json!({"avatarId": 5}),
        json!({"avatarId": "x", "garmentId": "y", "quality": "8k"}),
        json!({"avatarId": "x", "extra": 1}),
    ] {
        let (status, b) = c.post_json("/api/tryon/sessions", &body).await;
        assert!(status == 400 || status == 404, "{body} -> {status} {b}");
    }

    // SSRF: private, loopback, link-local, other schemes, names of loopback.
    let (_, avatar) = c
        .upload("/api/avatars", "photo", support::person_photo())
        .await;
    let avatar = avatar["id"].as_str().unwrap().to_string();
    for url in [
        "http://127.0.0.1:1/x.png",
        "http://[::1]/x.png",
        "http://169.254.169.254/latest/meta-data/",
        "http://10.0.0.1/x.png",
        "file:///etc/passwd",
        "http://localhost/x.png",
        "ftp://localhost/x.png",
        "http://example.invalid/x.png",
        &format!("{}/api/garments/../../etc/passwd", "http://127.0.0.1:9"),
    ] {
        let (status, body) = c
            .post_json(
                "/api/tryon/sessions",
                &json!({"avatarId": avatar, "garmentUrl": url, "quality": "sd"}),
            )
            .await;
        assert_eq!(
            (status, body["error"]["code"].as_str()),
            (422, Some("URL_025")),
            "{url}: {body}"
        );
    }

    // Random paths, methods and bodies: never a 5xx, the server stays up.
    let mut rng = 0x9E37_79B9_7F4A_7C15u64;
    let mut next = move || {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        rng
    };
    let paths = [
        "/api/avatars/",
        "/api/garments/",
        "/api/tryon/sessions/",
        "/api/avatars/x/files/",
        "/api/",
    ];
    for _ in 0..300 {
        let path = format!(
            "{}{}",
            paths[(next() % paths.len() as u64) as usize],
            (0..(next() % 40))
                .map(|_| char::from(b"abc012-_./%~?=&"[(next() % 15) as usize]))
                .collect::<String>()
        );
        let body: Vec<u8> = (0..(next() % 2000)).map(|_| next() as u8).collect();
        let req = match next() % 3 {
            0 => c.http.get(c.url(&path)),
            1 => c
                .http
                .post(c.url(&path))
                .header("content-type", "application/json")
                .body(body),
            _ => c
                .http
                .post(c.url(&path))
                .header("content-type", "multipart/form-data; boundary=x")
                .body(body),
        };
        let r = req.bearer_auth(&key).send().await.unwrap();
        assert!(r.status().as_u16() < 500, "{path}: {}", r.status());
    }
    assert_eq!(reqwest::get(c.url("/health")).await.unwrap().status(), 200);
}

/// A valid PNG header claiming `w`×`h` pixels, with no real data.
fn bomb_png(w: u32, h: u32) -> Vec<u8> {
    let img = image::RgbImage::new(4, 4);
    let mut out = Vec::new();
    img.write_to(&mut std::io::Cursor::new(&mut out), image::ImageFormat::Png)
        .unwrap();
    // IHDR's width and height are bytes 16..24, its CRC (over type and
    // data, bytes 12..29) follows.
    out[16..20].copy_from_slice(&w.to_be_bytes());
    out[20..24].copy_from_slice(&h.to_be_bytes());
    let crc = crc32fast::hash(&out[12..29]);
    out[29..33].copy_from_slice(&crc.to_be_bytes());
    out
}

/// POSTs over a bare TCP connection and returns the response's status,
/// even when the server answers before reading the whole body and closes
/// (as it should for an oversize body; HTTP clients report that as an
/// error instead of the response).
async fn raw_post_status(
    base: &str,
    path: &str,
    key: &str,
    content_type: &str,
    body: &[u8],
) -> u16 {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let addr = base.trim_start_matches("http://");
    let stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {key}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    // Read while writing: the answer comes before the body is consumed,
    // and must be read before the server's close resets the connection.
    let (mut reader, mut writer) = stream.into_split();
    let body = body.to_vec();
    let write = tokio::spawn(async move {
        let _ = writer.write_all(head.as_bytes()).await;
        let _ = writer.write_all(&body).await;
    });
    let mut response = Vec::new();
    let mut buf = [0u8; 4096];
    while !response.windows(2).any(|w| w == b"\r\n") {
        match reader.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => response.extend_from_slice(&buf[..n]),
        }
    }
    write.abort();
    let text = String::from_utf8_lossy(&response);
    text.split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no HTTP response: {text}"))
}

/// `MAX_CONCURRENT_RENDERS_PER_USER` (3): a fourth session while three
/// wait (no worker runs them) is `429 LIM_016` with `Retry-After`; another
/// user is not affected.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fourth_concurrent_render_is_429_with_retry_after() {
    let dir = tempfile::tempdir().unwrap();
    let backend = Backend::embedded(dir.path());
    let key_a = backend.create_user("a", false, 200);
    let key_b = backend.create_user("b", false, 200);
    let server = serve(&backend, &["--workers", "0"]);
    let a = Client::new(&server.base, &key_a);
    let (status, body) = a
        .upload("/api/avatars", "photo", support::person_photo())
        .await;
    assert_eq!(status, 202, "{body}");
    let avatar = body["id"].as_str().unwrap().to_string();
    let garment = a.garment().await;
    for _ in 0..3 {
        a.create_session(&avatar, &garment, "sd").await;
    }
    let r = a
        .http
        .post(a.url("/api/tryon/sessions"))
        .bearer_auth(&a.key)
        .json(&json!({"avatarId": avatar, "garmentId": garment, "quality": "sd"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 429);
    let retry: u64 = r.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(retry >= 1, "{retry}");
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["error"]["code"], "LIM_016", "{body}");
    // Another user still gets in.
    let b = Client::new(&server.base, &key_b);
    let (status, body) = b
        .upload("/api/avatars", "photo", support::person_photo())
        .await;
    assert_eq!(status, 202, "{body}");
    let b_avatar = body["id"].as_str().unwrap().to_string();
    let b_garment = b.garment().await;
    b.create_session(&b_avatar, &b_garment, "sd").await;
}
