//! A/B tests as in the seed's `createABTest` (`name`, `variants` with
//! parameter overrides, `duration` in days, `successMetrics{primaryMetric,
//! threshold}`): sticky assignment per user (SHA-256 of test and user, like
//! the router's split), the overrides applied to each enhanced generation,
//! and per-variant results with confidence intervals and a significance
//! test; a winner is named only when the test is significant.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use garmax_core::abtest::{self, Moments};
use garmax_core::tier::QualityTier;
use serde::Deserialize;
use serde_json::{Value, json};
use sha2::{Digest as _, Sha256};

use crate::auth::Admin;
use crate::error::{ApiError, ApiResult};
use crate::routes::enhanced::GenerateRequest;
use crate::state::AppState;

/// The metrics a test can be judged by.
pub const METRICS: [&str; 2] = ["user_rating", "pass_rate"];

/// The parameters a variant may override.
pub const OVERRIDABLE: [&str; 3] = ["qualityTier", "enableRetry", "maxRetries"];

/// A user's variant of a running test.
#[derive(Debug, Clone)]
pub struct Assigned {
    pub test_id: String,
    pub name: String,
    pub parameters: Value,
}

/// The variant of the oldest running test for `user_id`, if any runs.
pub async fn assign(state: &AppState, user_id: &str) -> ApiResult<Option<Assigned>> {
    let Some(test) = state
        .store
        .active_ab_tests(garmax_store::now_ms())
        .await?
        .into_iter()
        .next()
    else {
        return Ok(None);
    };
    let variants = test.variants.as_array().cloned().unwrap_or_default();
    if variants.is_empty() {
        return Ok(None);
    }
    let digest = Sha256::digest(format!("{}:{user_id}", test.id).as_bytes());
    let i = abtest::bucket([digest[0], digest[1], digest[2], digest[3]], variants.len());
    let v = &variants[i];
    Ok(Some(Assigned {
        test_id: test.id,
        name: v["name"].as_str().unwrap_or_default().to_string(),
        parameters: v["parameters"].clone(),
    }))
}

/// Applies a variant's overrides ([`OVERRIDABLE`]) to a request; other keys
/// are recorded with the test but change nothing.
pub fn apply(parameters: &Value, req: &mut GenerateRequest) -> ApiResult<()> {
    if let Some(t) = parameters["qualityTier"].as_str() {
        req.tier = QualityTier::parse(t)
            .ok_or_else(|| ApiError::bad_request(format!("variant tier '{t}' is unknown")))?;
    }
    if let Some(b) = parameters["enableRetry"].as_bool() {
        req.enable_retry = b;
    }
    if let Some(n) = parameters["maxRetries"].as_i64() {
        req.max_retries = n.clamp(0, 10);
    }
    Ok(())
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SuccessMetrics {
    pub primary_metric: String,
    pub threshold: f64,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreateAbTest {
    pub name: String,
    #[schema(value_type = Vec<Object>)]
    pub variants: Vec<Value>,
    /// Days.
    pub duration: f64,
    pub success_metrics: SuccessMetrics,
}

fn check(req: &CreateAbTest) -> ApiResult<()> {
    let bad = |m: String| Err(ApiError::bad_request(m));
    if req.name.trim().is_empty() {
        return bad("name is required".into());
    }
    if req.variants.len() < 2 {
        return bad("an A/B test has at least two variants".into());
    }
    let mut names = std::collections::HashSet::new();
    for v in &req.variants {
        let Some(name) = v["name"].as_str().filter(|n| !n.is_empty()) else {
            return bad("every variant has a name".into());
        };
        if !names.insert(name.to_string()) {
            return bad(format!("variant '{name}' is listed twice"));
        }
        if let Some(p) = v.get("parameters") {
            let Some(obj) = p.as_object() else {
                return bad(format!("parameters of '{name}' must be an object"));
            };
            // Other keys (the seed's `useNewFeature`) are kept and reported
            // as not applied: the generation has no such switch.
            let _ = obj;
            let mut probe = GenerateRequest {
                model_id: None,
                pose: None,
                avatar_id: None,
                tier: QualityTier::Standard,
                enable_retry: true,
                max_retries: 3,
                product_analysis: None,
            };
            apply(p, &mut probe)?;
        }
    }
    if !(req.duration > 0.0 && req.duration <= 365.0) {
        return bad("duration is 0 to 365 days".into());
    }
    if !METRICS.contains(&req.success_metrics.primary_metric.as_str()) {
        return bad(format!("primaryMetric is one of {}", METRICS.join(", ")));
    }
    Ok(())
}

/// Create an A/B test (admin); it runs from now for `duration` days.
#[utoipa::path(post, path = "/api/admin/ab-tests", security(("bearer" = [])), request_body = CreateAbTest,
    responses((status = 201, description = "the test and its results"), (status = 400, body = crate::error::ErrorBody)))]
pub async fn create(
    Admin(_admin): Admin,
    State(state): State<AppState>,
    body: Result<Json<CreateAbTest>, axum::extract::rejection::JsonRejection>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let Json(req) = body.map_err(ApiError::from)?;
    check(&req)?;
    let t = state
        .store
        .create_ab_test(
            &req.name,
            &Value::Array(req.variants),
            &req.success_metrics.primary_metric,
            req.success_metrics.threshold,
            req.duration,
        )
        .await?;
    Ok((StatusCode::CREATED, Json(results(&state, &t).await?)))
}

#[utoipa::path(get, path = "/api/admin/ab-tests", security(("bearer" = [])),
    responses((status = 200, description = "`{tests: [...]}`")))]
pub async fn list(Admin(_admin): Admin, State(state): State<AppState>) -> ApiResult<Json<Value>> {
    let mut tests = Vec::new();
    for t in state.store.list_ab_tests().await? {
        tests.push(results(&state, &t).await?);
    }
    Ok(Json(json!({ "tests": tests })))
}

/// A test's per-variant counts, mean rating and pass rate with 95 %
/// intervals, the significance test and the winner (only when significant).
#[utoipa::path(get, path = "/api/admin/ab-tests/{id}", security(("bearer" = [])),
    responses((status = 200, description = "the test and its results"), (status = 404, body = crate::error::ErrorBody)))]
pub async fn get(
    Admin(_admin): Admin,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let t = state.store.ab_test(&id).await?;
    Ok(Json(results(&state, &t).await?))
}

async fn results(state: &AppState, t: &garmax_store::abtests::AbTest) -> ApiResult<Value> {
    let sums = state.store.ab_variant_sums(&t.id).await?;
    let names: Vec<String> = t
        .variants
        .as_array()
        .map(|v| {
            v.iter()
                .filter_map(|x| x["name"].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    Ok(evaluate(t, &names, &sums, garmax_store::now_ms()))
}

/// The report of a test from its variants' sums (pure: tested directly).
pub fn evaluate(
    t: &garmax_store::abtests::AbTest,
    names: &[String],
    sums: &[garmax_store::abtests::VariantSums],
    now: i64,
) -> Value {
    struct Row {
        name: String,
        n: u64,
        passed: u64,
        ratings: Option<Moments>,
    }
    let rows: Vec<Row> = names
        .iter()
        .map(|name| {
            let s = sums.iter().find(|s| &s.variant == name);
            Row {
                name: name.clone(),
                n: s.map_or(0, |s| s.generations as u64),
                passed: s.map_or(0, |s| s.passed as u64),
                ratings: s.and_then(|s| {
                    Moments::from_sums(
                        s.ratings as u64,
                        s.rating_sum as f64,
                        s.rating_sq_sum as f64,
                    )
                }),
            }
        })
        .collect();
    let by_rating = t.primary_metric == "user_rating";
    let metric = |r: &Row| -> Option<f64> {
        if by_rating {
            r.ratings.map(|m| m.mean)
        } else {
            (r.n > 0).then(|| r.passed as f64 / r.n as f64)
        }
    };
    let mut ranked: Vec<&Row> = rows.iter().filter(|r| metric(r).is_some()).collect();
    ranked.sort_by(|a, b| metric(b).unwrap().total_cmp(&metric(a).unwrap()));
    let p_value = match ranked.as_slice() {
        [best, second, ..] => {
            if by_rating {
                match (best.ratings, second.ratings) {
                    (Some(a), Some(b)) => abtest::welch_p(&a, &b),
                    _ => None,
                }
            } else {
                abtest::proportions_p(best.passed, best.n, second.passed, second.n)
            }
        }
        _ => None,
    };
    let significant = p_value.is_some_and(|p| p < abtest::ALPHA);
    let winner = ranked
        .first()
        .filter(|best| significant && metric(best).is_some_and(|m| m >= t.threshold))
        .map(|b| b.name.clone());
    let variants: Vec<Value> = rows
        .iter()
        .map(|r| {
            let pass = (r.n > 0).then(|| r.passed as f64 / r.n as f64);
            let unapplied: Vec<String> = t
                .variants
                .as_array()
                .and_then(|vs| vs.iter().find(|v| v["name"] == r.name.as_str()))
                .and_then(|v| v["parameters"].as_object())
                .map(|o| {
                    o.keys()
                        .filter(|k| !OVERRIDABLE.contains(&k.as_str()))
                        .cloned()
                        .collect()
                })
                .unwrap_or_default();
            json!({
                "name": r.name,
                "unappliedParameters": unapplied,
                "generations": r.n,
                "passed": r.passed,
                "passRate": pass,
                "passRateCi95": abtest::wilson(r.passed, r.n).map(|(a, b)| [a, b]),
                "ratings": r.ratings.map_or(0, |m| m.n),
                "meanRating": r.ratings.map(|m| m.mean),
                "meanRatingCi95": r.ratings.filter(|m| m.n > 1).map(|m| { let (a, b) = m.interval(); [a, b] }),
            })
        })
        .collect();
    json!({
        "id": t.id,
        "name": t.name,
        "variants": t.variants,
        "duration": (t.ends_at - t.starts_at) as f64 / 86_400_000.0,
        "successMetrics": { "primaryMetric": t.primary_metric, "threshold": t.threshold },
        "startsAt": crate::views::rfc3339(t.starts_at),
        "endsAt": crate::views::rfc3339(t.ends_at),
        "status": if now < t.ends_at { "running" } else { "ended" },
        "results": {
            "variants": variants,
            "test": if by_rating { "welch-t (normal tail), best vs runner-up" } else { "two-proportion z, best vs runner-up" },
            "minSamplesPerVariant": abtest::MIN_SAMPLES,
            "pValue": p_value,
            "significant": significant,
            "winner": winner,
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use garmax_store::abtests::{AbTest, VariantSums};

    fn test(metric: &str) -> AbTest {
        AbTest {
            id: "t".into(),
            name: "New Quality Feature Test".into(),
            variants: json!([{"name": "Control", "parameters": {}}, {"name": "Test", "parameters": {"qualityTier": "premium"}}]),
            primary_metric: metric.into(),
            threshold: 4.0,
            starts_at: 0,
            ends_at: 7 * 86_400_000,
            created_at: 0,
        }
    }

    fn sums(name: &str, n: i64, passed: i64, ratings: &[i64]) -> VariantSums {
        VariantSums {
            variant: name.into(),
            generations: n,
            passed,
            ratings: ratings.len() as i64,
            rating_sum: ratings.iter().sum(),
            rating_sq_sum: ratings.iter().map(|r| r * r).sum(),
        }
    }

    #[test]
    fn a_winner_only_when_significant_and_above_threshold() {
        let names = vec!["Control".to_string(), "Test".to_string()];
        // Test rated 4–5, control 3–4, 60 ratings each: significant.
        let hi: Vec<i64> = (0..60).map(|i| 4 + i % 2).collect();
        let lo: Vec<i64> = (0..60).map(|i| 3 + i % 2).collect();
        let r = evaluate(
            &test("user_rating"),
            &names,
            &[sums("Control", 60, 30, &lo), sums("Test", 60, 40, &hi)],
            1,
        );
        assert_eq!(r["results"]["winner"], "Test", "{r}");
        assert_eq!(r["results"]["significant"], true);
        assert_eq!(r["results"]["variants"][1]["meanRating"], json!(4.5));
        assert_eq!(r["duration"], json!(7.0));
        assert_eq!(
            r["results"]["variants"][0]["unappliedParameters"],
            json!([])
        );
        // The same means on 10 ratings each: not enough data, no winner.
        let r = evaluate(
            &test("user_rating"),
            &names,
            &[
                sums("Control", 10, 5, &lo[..10]),
                sums("Test", 10, 5, &hi[..10]),
            ],
            1,
        );
        assert_eq!(r["results"]["winner"], Value::Null);
        assert_eq!(r["results"]["pValue"], Value::Null);
        // Significant but below the 4.0 threshold: no winner.
        let mid: Vec<i64> = (0..60).map(|i| 3 + (i % 3 == 0) as i64).collect();
        let low: Vec<i64> = (0..60).map(|i| 1 + i % 2).collect();
        let r = evaluate(
            &test("user_rating"),
            &names,
            &[sums("Control", 60, 30, &low), sums("Test", 60, 40, &mid)],
            1,
        );
        assert_eq!(r["results"]["significant"], true);
        assert_eq!(r["results"]["winner"], Value::Null);
        // Pass rate: 45/60 vs 20/60 is significant.
        let mut t = test("pass_rate");
        t.threshold = 0.5;
        let r = evaluate(
            &t,
            &names,
            &[sums("Control", 60, 20, &[]), sums("Test", 60, 45, &[])],
            8 * 86_400_000,
        );
        assert_eq!(r["results"]["winner"], "Test");
        assert_eq!(r["status"], "ended");
        let ci = r["results"]["variants"][1]["passRateCi95"]
            .as_array()
            .unwrap();
        assert!(ci[0].as_f64().unwrap() < 0.75 && ci[1].as_f64().unwrap() > 0.75);
    }

    #[test]
    fn creation_refuses_what_cannot_be_applied() {
        let ok = CreateAbTest {
            name: "x".into(),
            variants: vec![
                json!({"name": "A", "parameters": {"useNewFeature": false}}),
                json!({"name": "B"}),
            ],
            duration: 7.0,
            success_metrics: SuccessMetrics {
                primary_metric: "user_rating".into(),
                threshold: 4.0,
            },
        };
        assert!(check(&ok).is_ok(), "the seed's own example is accepted");
        let bad_tier = CreateAbTest {
            variants: vec![
                json!({"name": "A", "parameters": {"maxRetries": 1}}),
                json!({"name": "B", "parameters": {"qualityTier": "gold"}}),
            ],
            ..ok
        };
        assert!(check(&bad_tier).is_err());
        let one = CreateAbTest {
            variants: vec![json!({"name": "A"})],
            ..bad_tier
        };
        assert!(check(&one).is_err());
    }
}
