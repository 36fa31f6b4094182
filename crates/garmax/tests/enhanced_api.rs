//! The consistency seed's enhanced try-on API end to end against the real
//! `garmax serve` (SQLite, in-process worker): the catalogue seeded from a
//! personas file, admin persona CRUD and a pose reference upload processed
//! like an avatar, the seed's error codes, `generate` with the seed's
//! request fields answered in the seed's response shape (compared key by
//! key), live progress on the seed's stages, the job status endpoint,
//! quality tiers, ratings and the admin analytics of that generation.

mod support;

use std::time::{Duration, Instant};

use serde_json::{Value, json};
use support::{Backend, Client, asset, garment_photo, person_photo, serve};

/// The seed's example response, for its keys and their JSON types.
fn seed_response() -> Value {
    json!({
      "success": true,
      "imagePath": "/uploads/generated_image.jpg",
      "imageUrl": "/uploads/generated_image.jpg",
      "validation": {
        "passes": true,
        "overallQuality": 0.87,
        "consistency": { "face": 0.89, "pose": 0.85 },
        "accuracy": { "color": 0.91, "style": 0.83, "branding": 0.88 },
        "feedback": ["Excellent model consistency", "Good color matching"]
      },
      "attempts": 1,
      "processingTime": 45000,
      "retryHistory": [],
      "timestamp": "2024-01-15T10:30:00Z"
    })
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "bool",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// Same keys at every level as the seed's example, and the same JSON type
/// for each value (a score may be null when its validator was skipped).
fn assert_seed_shape(seed: &Value, got: &Value, path: &str) {
    match (seed, got) {
        (Value::Object(s), Value::Object(g)) => {
            let mut sk: Vec<&String> = s.keys().collect();
            let mut gk: Vec<&String> = g.keys().filter(|k| k.as_str() != "error").collect();
            sk.sort();
            gk.sort();
            assert_eq!(sk, gk, "keys of {path}");
            for k in s.keys() {
                assert_seed_shape(&s[k], &g[k], &format!("{path}.{k}"));
            }
        }
        (s, g) => {
            let score = path.contains("consistency") || path.contains("accuracy");
            assert!(
                kind(s) == kind(g) || (score && g.is_null()),
                "{path}: seed has {}, got {g}",
                kind(s)
            );
        }
    }
}

async fn upload_form(
    c: &Client,
    path: &str,
    form: reqwest::multipart::Form,
    wait: bool,
) -> (u16, Value) {
    let mut req = c.http.post(c.url(path)).bearer_auth(&c.key).multipart(form);
    if wait {
        req = req.header("Prefer", "wait");
    }
    let r = req.send().await.unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

fn generate_form(model: &str, pose: &str, image: Vec<u8>) -> reqwest::multipart::Form {
    reqwest::multipart::Form::new()
        .text("modelId", model.to_string())
        .text("pose", pose.to_string())
        .text("qualityTier", "premium")
        .text("enableRetry", "true")
        .text("maxRetries", "3")
        .text(
            "productAnalysis",
            json!({"garmentType": "tshirt", "colors": {"dominant": {"hex": "#c4202c"}}})
                .to_string(),
        )
        .part(
            "productImage",
            reqwest::multipart::Part::bytes(image).file_name("product.png"),
        )
}

/// `generate` with `Prefer: wait`; polls the job when it answers 202.
/// Returns the final status, body and session id.
async fn generate_and_wait(c: &Client, form: reqwest::multipart::Form) -> (u16, Value, String) {
    let (status, first) = upload_form(c, "/api/enhanced-tryon/generate", form, true).await;
    if status == 202 {
        // Longer than the bounded wait on this machine: poll the job.
        let id = first["jobId"].as_str().unwrap().to_string();
        assert_eq!(first["statusUrl"], format!("/api/enhanced-tryon/jobs/{id}"));
        let deadline = Instant::now() + Duration::from_secs(400);
        loop {
            let (s, b) = c.get_json(&format!("/api/enhanced-tryon/jobs/{id}")).await;
            if s != 202 {
                return (s, b, id);
            }
            assert!(Instant::now() < deadline, "generation did not finish: {b}");
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    }
    let id = first["imageUrl"]
        .as_str()
        .unwrap_or_else(|| panic!("{status}: {first}"))
        .trim_start_matches("/api/tryon/sessions/")
        .trim_end_matches("/result")
        .to_string();
    (status, first, id)
}

/// An A/B test as the seed creates it, run by real generations: sticky
/// variants per user, each variant's overrides applied, per-variant counts
/// and mean ratings as given, and no winner on a handful of samples.
async fn ab_test_end_to_end(backend: &Backend, server: &support::Proc, admin: &Client) {
    let body = json!({
        "name": "Retry budget",
        "variants": [
            {"name": "control", "parameters": {"qualityTier": "standard", "maxRetries": 0}},
            {"name": "treatment", "parameters": {"qualityTier": "premium", "maxRetries": 0, "useNewFeature": true}}
        ],
        "duration": 7,
        "successMetrics": {"primaryMetric": "user_rating", "threshold": 4.0}
    });
    let shopper = Client::new(&server.base, &backend.create_user("ab-0", false, 0));
    assert_eq!(shopper.post_json("/api/admin/ab-tests", &body).await.0, 403);
    let (status, created) = admin.post_json("/api/admin/ab-tests", &body).await;
    assert_eq!(status, 201, "{created}");
    let test_id = created["id"].as_str().unwrap().to_string();
    assert_eq!(created["status"], "running");
    assert_eq!(created["successMetrics"]["primaryMetric"], "user_rating");

    // Four shoppers, the first twice; each rates what they got.
    let mut shoppers = vec![shopper];
    for i in 1..4 {
        shoppers.push(Client::new(
            &server.base,
            &backend.create_user(&format!("ab-{i}"), false, 0),
        ));
    }
    let mut runs: Vec<(usize, String, i64)> = Vec::new();
    for (n, who) in [0usize, 0, 1, 2, 3].into_iter().enumerate() {
        let c = &shoppers[who];
        let (status, result, id) =
            generate_and_wait(c, generate_form("johny", "Arms Crossed", garment_photo())).await;
        assert!(matches!(status, 200 | 422), "{status}: {result}");
        assert_eq!(
            result["attempts"], 1,
            "both variants allow no retry: {result}"
        );
        let rating = 1 + (n as i64 * 2) % 5;
        let path = format!("/api/tryon/sessions/{id}/rating");
        assert_eq!(c.post_json(&path, &json!({"rating": rating})).await.0, 200);
        runs.push((who, id, rating));
    }

    // Which variant each generation ran under, and with what tier.
    let (_, a) = admin
        .get_json("/api/admin/analytics?includeDetails=true")
        .await;
    let details = a["details"].as_array().unwrap();
    let variant_of = |id: &str| {
        let d = details
            .iter()
            .find(|d| d["sessionId"] == id)
            .unwrap_or_else(|| panic!("{id} not in the details"));
        assert_eq!(d["abTestId"], test_id.as_str());
        let v = d["abVariant"].as_str().unwrap().to_string();
        let tier = if v == "control" {
            "standard"
        } else {
            "premium"
        };
        assert_eq!(
            d["qualityTier"], tier,
            "the variant's tier was applied: {d}"
        );
        v
    };
    let variants: Vec<String> = runs.iter().map(|(_, id, _)| variant_of(id)).collect();
    assert_eq!(variants[0], variants[1], "a user keeps their variant");

    let (status, report) = admin
        .get_json(&format!("/api/admin/ab-tests/{test_id}"))
        .await;
    assert_eq!(status, 200, "{report}");
    for v in report["results"]["variants"].as_array().unwrap() {
        let name = v["name"].as_str().unwrap();
        let mine: Vec<i64> = runs
            .iter()
            .zip(&variants)
            .filter(|(_, got)| got.as_str() == name)
            .map(|((_, _, r), _)| *r)
            .collect();
        assert_eq!(v["generations"], mine.len() as u64, "{v}");
        assert_eq!(v["ratings"], mine.len() as u64, "{v}");
        if mine.is_empty() {
            assert!(v["meanRating"].is_null(), "{v}");
        } else {
            let mean = mine.iter().sum::<i64>() as f64 / mine.len() as f64;
            assert!(
                (v["meanRating"].as_f64().unwrap() - mean).abs() < 1e-9,
                "{v}"
            );
        }
        if name == "treatment" {
            assert_eq!(v["unappliedParameters"], json!(["useNewFeature"]));
        }
    }
    assert!(
        report["results"]["winner"].is_null(),
        "five samples decide nothing: {report}"
    );
    assert_eq!(admin.get_json("/api/admin/ab-tests/nope").await.0, 404);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn enhanced_generation_follows_the_seed_end_to_end() {
    let dir = tempfile::tempdir().unwrap();
    let astronaut = asset("skimage/data/astronaut.png");
    let catalogue = dir.path().join("personas.toml");
    std::fs::write(
        &catalogue,
        format!(
            r#"
[[persona]]
id = "eileen"
name = "Eileen"
consistency_threshold = 0.75
[persona.characteristics]
physique = "average build, short hair"
[[persona.poses]]
name = "Front"
reference = "{}"

[[persona]]
id = "johny"
name = "Johny"
consistency_threshold = 0.75
[persona.characteristics]
physique = "athletic build, broad shoulders"
style = "casual confident pose"
features = "strong jawline, friendly expression"
[[persona.poses]]
name = "Arms Crossed"
[[persona.poses]]
name = "Contrapposto"
[[persona.poses]]
name = "Hands in Pockets"
"#,
            astronaut.display()
        ),
    )
    .unwrap();
    let backend = Backend::embedded(dir.path());
    let admin_key = backend.create_user("brand-admin", true, 0);
    let user_key = backend.create_user("brand", false, 0);
    let other_key = backend.create_user("other", false, 0);
    let server = serve(
        &backend,
        &["--workers", "1", "--personas", catalogue.to_str().unwrap()],
    );
    let admin = Client::new(&server.base, &admin_key);
    let user = Client::new(&server.base, &user_key);
    let other = Client::new(&server.base, &other_key);

    // The catalogue was seeded: the seed's johny shape, field for field.
    let (status, models) = user.get_json("/api/models").await;
    assert_eq!(status, 200, "{models}");
    let johny = models["models"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["id"] == "johny")
        .cloned()
        .expect("johny seeded");
    assert_eq!(johny["name"], "Johny");
    assert_eq!(
        johny["characteristics"],
        json!({
            "physique": "athletic build, broad shoulders",
            "style": "casual confident pose",
            "features": "strong jawline, friendly expression"
        })
    );
    assert_eq!(
        johny["poses"],
        json!(["Arms Crossed", "Contrapposto", "Hands in Pockets"])
    );
    assert_eq!(johny["consistencyThreshold"], json!(0.75));
    assert_eq!(johny["referenceImagePath"], Value::Null);

    // Quality tiers: the seed's body.
    let (status, tiers) = user.get_json("/api/enhanced-tryon/quality-tiers").await;
    assert_eq!(status, 200);
    assert_eq!(
        tiers["qualityTiers"]["standard"],
        json!({
            "name": "Standard",
            "description": "Balanced quality and speed",
            "thresholds": {
                "overall": 0.65,
                "consistency": { "face": 0.65, "pose": 0.55 },
                "accuracy": { "color": 0.65, "style": 0.55, "branding": 0.75 }
            },
            "estimatedTime": "30-60 seconds"
        })
    );
    assert_eq!(tiers["success"], true);

    // Admin CRUD: users may not; a new persona round-trips; a bad one is 400.
    let body = json!({"id": "sam", "name": "Sam", "characteristics": {"physique": "tall"},
        "poses": ["Standing"], "consistencyThreshold": 0.7});
    assert_eq!(user.post_json("/api/admin/models", &body).await.0, 403);
    let (status, sam) = admin.post_json("/api/admin/models", &body).await;
    assert_eq!(
        (status, sam["poses"].clone()),
        (201, json!(["Standing"])),
        "{sam}"
    );
    assert_eq!(admin.post_json("/api/admin/models", &body).await.0, 409);
    let bad = json!({"id": "x y", "name": "X", "poses": [], "consistencyThreshold": 2});
    assert_eq!(admin.post_json("/api/admin/models", &bad).await.0, 400);
    let r = admin
        .http
        .put(admin.url("/api/admin/models/sam"))
        .bearer_auth(&admin.key)
        .json(&json!({"name": "Samuel", "poses": ["Standing", "Seated"], "consistencyThreshold": 0.8}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let (_, sam) = user.get_json("/api/models/sam").await;
    assert_eq!(
        (sam["name"].clone(), sam["poses"].clone()),
        (json!("Samuel"), json!(["Standing", "Seated"]))
    );
    assert_eq!(admin.delete("/api/admin/models/sam").await, 204);
    let (status, gone) = user.get_json("/api/models/sam").await;
    assert_eq!(
        (status, gone["error"]["code"].clone()),
        (404, json!("MOD_005"))
    );

    // A reference photo for johny's "Arms Crossed", processed like an avatar.
    // The role is refused before the body is read and the server then closes
    // the connection, so a large body races that close (the client's write
    // fails with a broken pipe): the refused upload carries a few bytes only.
    let part = reqwest::multipart::Part::bytes(b"not read".to_vec()).file_name("ref.png");
    let (status, _) = upload_form(
        &user,
        "/api/admin/models/johny/poses/Arms%20Crossed/reference",
        reqwest::multipart::Form::new().part("image", part),
        false,
    )
    .await;
    assert_eq!(status, 403);
    let part = reqwest::multipart::Part::bytes(person_photo()).file_name("ref.png");
    let (status, j) = upload_form(
        &admin,
        "/api/admin/models/johny/poses/Arms%20Crossed/reference",
        reqwest::multipart::Form::new().part("image", part),
        false,
    )
    .await;
    assert_eq!(status, 202, "{j}");

    // The seed's error codes, before any work is queued.
    let cases = [
        ("nobody", "Arms Crossed", garment_photo(), 404, "MOD_005"),
        ("johny", "Handstand", garment_photo(), 422, "POS_006"),
        ("johny", "Contrapposto", garment_photo(), 422, "POS_006"),
        (
            "johny",
            "Arms Crossed",
            b"not an image at all".to_vec(),
            422,
            "IMG_004",
        ),
    ];
    for (model, pose, image, want_status, want_code) in cases {
        let (status, body) = upload_form(
            &user,
            "/api/enhanced-tryon/generate",
            generate_form(model, pose, image),
            false,
        )
        .await;
        assert_eq!(
            (
                status,
                body["error"]["code"].as_str(),
                body["success"].clone()
            ),
            (want_status, Some(want_code), json!(false)),
            "{model}/{pose}: {body}"
        );
    }

    // Wait until johny's reference is processed.
    let deadline = Instant::now() + Duration::from_secs(300);
    loop {
        let (_, j) = user.get_json("/api/models/johny").await;
        let s = j["poseReferences"][0]["status"].clone();
        if s == "ready" {
            assert!(
                j["referenceImagePath"]
                    .as_str()
                    .unwrap()
                    .ends_with("/reference")
            );
            break;
        }
        assert_ne!(s, "failed", "{j}");
        assert!(Instant::now() < deadline, "reference not processed: {j}");
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let reference = user
        .get("/api/models/johny/poses/Arms%20Crossed/reference")
        .await;
    assert_eq!(reference.status(), 200);

    // The seed's request; synchronous when it finishes within the wait.
    let started = Instant::now();
    let (status, body, id) = generate_and_wait(
        &user,
        generate_form("johny", "Arms Crossed", garment_photo()),
    )
    .await;
    eprintln!("generation took {:?}: {body}", started.elapsed());
    assert_seed_shape(&seed_response(), &body, "response");
    if body["success"] == true {
        assert_eq!(status, 200, "{body}");
    } else {
        // Thresholds never met: RET_003 with the best attempt attached.
        assert_eq!(
            (status, body["error"]["code"].as_str()),
            (422, Some("RET_003")),
            "{body}"
        );
    }
    let attempts = body["attempts"].as_u64().unwrap();
    assert!((1..=4).contains(&attempts), "{body}");
    assert_eq!(
        body["retryHistory"].as_array().unwrap().len() as u64,
        attempts - 1
    );
    assert!(body["processingTime"].as_u64().unwrap() > 0);
    assert!(body["timestamp"].as_str().unwrap().ends_with('Z'));
    let overall = body["validation"]["overallQuality"].as_f64().unwrap();
    assert!((0.0..=1.0).contains(&overall));
    // The status endpoint answers the same body; the image is downloadable.
    let (s2, again) = user
        .get_json(&format!("/api/enhanced-tryon/jobs/{id}"))
        .await;
    assert_eq!((s2, &again), (status, &body));
    let img = user.get(body["imageUrl"].as_str().unwrap()).await;
    assert_eq!(img.status(), 200);
    image::load_from_memory(&img.bytes().await.unwrap()).expect("a PNG");
    // Another user sees nothing.
    assert_eq!(
        other
            .get_json(&format!("/api/enhanced-tryon/jobs/{id}"))
            .await
            .0,
        404
    );

    // Live progress: the seed's five stages, in order, replayed over SSE.
    let events = user.sse(&id, None, &["confirmed", "failed"], 30).await;
    support::assert_ordered(&events);
    let stages: Vec<&str> = events
        .iter()
        .map(|e| e["stage"].as_str().unwrap())
        .collect();
    let order = [
        "product-analysis",
        "model-generation",
        "product-application",
        "quality-validation",
        "complete",
    ];
    let pos: Vec<usize> = order
        .iter()
        .map(|s| {
            stages
                .iter()
                .position(|x| x == s)
                .unwrap_or_else(|| panic!("{s} missing from {stages:?}"))
        })
        .collect();
    assert!(pos.windows(2).all(|w| w[0] < w[1]), "{stages:?}");
    if attempts > 1 {
        assert!(stages.contains(&"adaptive-retry"), "{stages:?}");
    }

    // Ratings: owner only, 1–5; the session shows it.
    let session = format!("/api/tryon/sessions/{id}");
    let unrated = user.get_json(&session).await.1;
    assert_eq!(unrated.get("rating"), Some(&Value::Null), "{unrated}");
    let path = format!("/api/tryon/sessions/{id}/rating");
    assert_eq!(other.post_json(&path, &json!({"rating": 5})).await.0, 404);
    assert_eq!(user.post_json(&path, &json!({"rating": 7})).await.0, 400);
    let (status, rated) = user.post_json(&path, &json!({"rating": 5})).await;
    assert_eq!((status, rated["rating"].clone()), (200, json!(5)));
    assert_eq!(user.get_json(&session).await.1["rating"], 5);

    // Analytics of today's johny generations: exactly this one.
    let today = body["timestamp"].as_str().unwrap()[..10].to_string();
    let q = format!(
        "/api/admin/analytics?startDate={today}&endDate={today}&modelId=johny&qualityTier=premium&includeDetails=true"
    );
    assert_eq!(user.get_json(&q).await.0, 403);
    let (status, a) = admin.get_json(&q).await;
    assert_eq!(status, 200, "{a}");
    assert_eq!(a["summary"]["generations"], 1, "{a}");
    let passed = (body["success"] == true && body["validation"]["passes"] == true) as i64;
    assert_eq!(a["summary"]["passed"], passed, "{a}");
    assert_eq!(a["ratings"]["mean"], json!(5.0));
    assert_eq!(a["details"][0]["sessionId"], id.as_str());
    assert_eq!(a["details"][0]["attempts"], attempts);
    assert_eq!(a["successRates"]["byPose"][0]["key"], "Arms Crossed");
    let (_, none) = admin.get_json("/api/admin/analytics?modelId=eileen").await;
    assert_eq!(none["summary"]["generations"], 0);
    assert_eq!(
        admin
            .get_json("/api/admin/analytics?startDate=yesterday")
            .await
            .0,
        400
    );

    // An A/B test on the same server and catalogue.
    ab_test_end_to_end(&backend, &server, &admin).await;
}
