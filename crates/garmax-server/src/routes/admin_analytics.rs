//! `GET /api/admin/analytics` with the seed's query parameters
//! (`startDate`, `endDate` as YYYY-MM-DD, both inclusive, UTC; `modelId`,
//! `qualityTier`, `includeDetails`), and users' ratings of their sessions
//! (`POST /api/tryon/sessions/{id}/rating`). The numbers are computed in SQL
//! by `garmax_store::analytics`.

use axum::Json;
use axum::extract::{Path, Query, State};
use garmax_store::analytics::{AnalyticsQuery, GroupStats};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::auth::{Admin, Caller};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

const DAY_MS: i64 = 86_400_000;

/// Days since 1970-01-01 of a civil date (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let mp = (m as i64 + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Midnight UTC of `YYYY-MM-DD`, in epoch ms.
pub fn parse_date(s: &str) -> Option<i64> {
    let mut it = s.trim().splitn(3, '-');
    let y: i64 = it.next()?.parse().ok()?;
    let m: u32 = it.next()?.parse().ok()?;
    let d: u32 = it.next()?.parse().ok()?;
    let dim = [
        31,
        28 + (y % 4 == 0 && (y % 100 != 0 || y % 400 == 0)) as u32,
        31,
        30,
        31,
        30,
        31,
        31,
        30,
        31,
        30,
        31,
    ];
    if !(1..=12).contains(&m) || d == 0 || d > dim[(m - 1) as usize] || !(1970..=9999).contains(&y)
    {
        return None;
    }
    Some(days_from_civil(y, m, d) * DAY_MS)
}

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(rename_all = "camelCase")]
pub struct AnalyticsParams {
    /// YYYY-MM-DD (inclusive, UTC).
    pub start_date: Option<String>,
    /// YYYY-MM-DD (inclusive, UTC).
    pub end_date: Option<String>,
    pub model_id: Option<String>,
    pub quality_tier: Option<String>,
    /// Include the newest generations themselves (up to 1000).
    pub include_details: Option<bool>,
}

/// The query the parameters describe.
pub fn query_of(p: &AnalyticsParams) -> ApiResult<AnalyticsQuery> {
    let date = |v: &Option<String>, name: &str| -> ApiResult<Option<i64>> {
        v.as_deref()
            .map(|s| {
                parse_date(s).ok_or_else(|| {
                    ApiError::bad_request(format!("{name} '{s}' is not a YYYY-MM-DD date"))
                })
            })
            .transpose()
    };
    let start = date(&p.start_date, "startDate")?;
    let end = date(&p.end_date, "endDate")?.map(|e| e + DAY_MS);
    if let (Some(s), Some(e)) = (start, end)
        && e <= s
    {
        return Err(ApiError::bad_request("endDate is before startDate"));
    }
    if let Some(t) = &p.quality_tier
        && garmax_core::tier::QualityTier::parse(t).is_none()
    {
        return Err(ApiError::bad_request(format!(
            "qualityTier '{t}' is unknown"
        )));
    }
    Ok(AnalyticsQuery {
        start_ms: start,
        end_ms: end,
        model_id: p.model_id.clone().filter(|s| !s.is_empty()),
        tier: p.quality_tier.as_ref().map(|t| t.to_lowercase()),
        include_details: p.include_details.unwrap_or(false),
        detail_limit: 1000,
    })
}

fn group(g: &GroupStats) -> Value {
    json!({
        "key": g.key,
        "generations": g.count,
        "passed": g.passed,
        "successRate": g.success_rate(),
        "meanOverallQuality": g.mean_overall,
        "meanAttempts": g.mean_attempts,
        "totalCost": g.total_cost,
        "processingTimeMs": { "p50": g.p50_ms, "p95": g.p95_ms },
    })
}

/// Analytics of the generations in the window (admin).
#[utoipa::path(get, path = "/api/admin/analytics", security(("bearer" = [])), params(AnalyticsParams),
    responses((status = 200, description = "success rates, times, costs, score distributions, retries, ratings"), (status = 400, body = crate::error::ErrorBody)))]
pub async fn analytics(
    Admin(_admin): Admin,
    State(state): State<AppState>,
    Query(p): Query<AnalyticsParams>,
) -> ApiResult<Json<Value>> {
    let q = query_of(&p)?;
    let a = state.store.analytics(&q).await?;
    let buckets: Vec<Value> = a
        .quality_histogram
        .iter()
        .enumerate()
        .map(|(i, n)| json!({ "from": i as f64 / 10.0, "to": (i + 1) as f64 / 10.0, "count": n }))
        .collect();
    let mut body = json!({
        "success": true,
        "query": {
            "startDate": p.start_date, "endDate": p.end_date, "modelId": q.model_id,
            "qualityTier": q.tier, "includeDetails": q.include_details,
        },
        "summary": group(&a.total),
        "successRates": {
            "byModel": a.by_model.iter().map(group).collect::<Vec<_>>(),
            "byPose": a.by_pose.iter().map(group).collect::<Vec<_>>(),
            "byTier": a.by_tier.iter().map(group).collect::<Vec<_>>(),
        },
        "processingTime": {
            "p50Ms": a.total.p50_ms,
            "p95Ms": a.total.p95_ms,
            "meanStageMs": {
                "productAnalysis": a.stage_means_ms[0],
                "modelGeneration": a.stage_means_ms[1],
                "productApplication": a.stage_means_ms[2],
                "qualityValidation": a.stage_means_ms[3],
            },
        },
        "costs": {
            "total": a.total.total_cost,
            "perGeneration": if a.total.count > 0 { Some(a.total.total_cost / a.total.count as f64) } else { None },
        },
        "quality": {
            "mean": {
                "overall": a.scores.overall, "face": a.scores.face, "pose": a.scores.pose,
                "color": a.scores.color, "style": a.scores.style, "branding": a.scores.branding,
            },
            "overallDistribution": buckets,
        },
        "retries": {
            "retried": a.retried,
            "attemptsDistribution": a.attempts_distribution.iter().map(|(k, n)| json!({"attempts": k, "count": n})).collect::<Vec<_>>(),
            "mostCommonFailingMetric": a.failing_metrics.first().map(|(m, _)| m.clone()),
            "failingMetrics": a.failing_metrics.iter().map(|(m, n)| json!({"metric": m, "count": n})).collect::<Vec<_>>(),
        },
        "errors": a.errors.iter().map(|(c, n)| json!({"code": c, "count": n})).collect::<Vec<_>>(),
        "ratings": {
            "count": a.ratings_count,
            "mean": a.mean_rating,
            "distribution": a.rating_distribution,
        },
        "daily": a.daily.iter().map(|d| json!({
            "date": crate::views::rfc3339(d.day * DAY_MS)[..10],
            "generations": d.count,
            "passed": d.passed,
            "successRate": if d.count > 0 { d.passed as f64 / d.count as f64 } else { 0.0 },
            "meanOverallQuality": d.mean_overall,
            "meanAttempts": d.mean_attempts,
            "totalCost": d.total_cost,
        })).collect::<Vec<_>>(),
    });
    if q.include_details {
        body["details"] = Value::Array(
            a.details
                .iter()
                .map(|m| {
                    json!({
                        "sessionId": m.session_id, "modelId": m.model_id, "pose": m.pose, "qualityTier": m.tier,
                        "provider": m.provider, "attempts": m.attempts, "passes": m.passes,
                        "scores": {"face": m.face, "pose": m.pose_score, "color": m.color, "style": m.style, "branding": m.branding, "overall": m.overall},
                        "failingMetric": m.failing_metric,
                        "stageMs": {"productAnalysis": m.analysis_ms, "modelGeneration": m.stage1_ms, "productApplication": m.stage2_ms, "qualityValidation": m.validation_ms},
                        "processingTimeMs": m.total_ms, "cost": m.cost, "errorCode": m.error_code,
                        "abTestId": m.ab_test_id, "abVariant": m.ab_variant,
                        "timestamp": crate::views::rfc3339(m.created_at),
                    })
                })
                .collect(),
        );
    }
    Ok(Json(body))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RatingBody {
    /// 1 to 5.
    pub rating: i64,
}

/// Rate a result 1–5 (the owner only; rating again replaces it).
#[utoipa::path(post, path = "/api/tryon/sessions/{id}/rating", security(("bearer" = [])), request_body = RatingBody,
    responses((status = 200, description = "`{sessionId, rating}`"), (status = 400, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody)))]
pub async fn rate(
    Caller(user): Caller,
    State(state): State<AppState>,
    Path(id): Path<String>,
    body: Result<Json<RatingBody>, axum::extract::rejection::JsonRejection>,
) -> ApiResult<Json<Value>> {
    let Json(b) = body.map_err(ApiError::from)?;
    state.store.rate_session(&user.id, &id, b.rating).await?;
    Ok(Json(
        json!({ "success": true, "sessionId": id, "rating": b.rating }),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_utc_midnights_and_end_is_inclusive() {
        assert_eq!(parse_date("1970-01-01"), Some(0));
        assert_eq!(parse_date("2024-01-15"), Some(1_705_276_800_000));
        assert_eq!(parse_date("2024-02-29"), Some(1_709_164_800_000));
        for bad in [
            "2023-02-29",
            "2024-13-01",
            "2024-1",
            "yesterday",
            "2024-00-10",
        ] {
            assert_eq!(parse_date(bad), None, "{bad}");
        }
        let q = query_of(&AnalyticsParams {
            start_date: Some("2024-01-15".into()),
            end_date: Some("2024-01-15".into()),
            model_id: Some("johny".into()),
            quality_tier: Some("Premium".into()),
            include_details: None,
        })
        .unwrap();
        assert_eq!(q.end_ms.unwrap() - q.start_ms.unwrap(), DAY_MS);
        assert_eq!(q.tier.as_deref(), Some("premium"));
        assert!(
            query_of(&AnalyticsParams {
                start_date: Some("2024-01-16".into()),
                end_date: Some("2024-01-15".into()),
                model_id: None,
                quality_tier: None,
                include_details: None,
            })
            .is_err()
        );
    }
}
