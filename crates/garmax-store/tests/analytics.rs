//! Analytics, ratings, pruning and A/B sums over a generated history of
//! 1,200 generations, checked against the same numbers computed here by
//! hand (plain Rust over the generated rows), on SQLite and PostgreSQL.

mod common;

use std::collections::BTreeMap;

use garmax_store::Store;
use garmax_store::analytics::{AnalyticsQuery, OWN_AVATAR};
use garmax_store::generations::GenerationMetrics;
use garmax_store::queue::NewJob;
use garmax_store::sessions::NewSession;
use garmax_store::users::Role;
use serde_json::json;

/// SplitMix64: the history is the same on every run.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    /// A score in hundredths (exact in binary-decimal comparisons below).
    fn score(&mut self) -> f64 {
        (self.below(101)) as f64 / 100.0
    }
}

const N: usize = 1200;
const DAY: i64 = 86_400_000;
/// 2026-11-01T00:00:00Z.
const T0: i64 = 1_793_491_200_000;

fn history(user: &str, session_ids: &[String]) -> Vec<GenerationMetrics> {
    let mut rng = Rng(42);
    let models = [Some("johny"), Some("eileen"), Some("maya"), None];
    let poses = ["Arms Crossed", "Front", "Standing"];
    let tiers = ["standard", "premium", "ultra"];
    let metrics = ["face", "pose", "color", "style", "branding"];
    (0..session_ids.len())
        .map(|i| {
            let model = models[rng.below(4) as usize];
            let pose = model.map(|_| poses[rng.below(3) as usize].to_string());
            let overall = rng.score();
            let passes = overall >= 0.65;
            let attempts = 1 + rng.below(4) as i64;
            let error = match rng.below(10) {
                0 => Some("RET_003".to_string()),
                1 => Some("GEN_002".to_string()),
                _ => None,
            };
            GenerationMetrics {
                session_id: session_ids[i].clone(),
                user_id: user.to_string(),
                model_id: model.map(str::to_string),
                pose,
                tier: tiers[rng.below(3) as usize].to_string(),
                provider: "local".into(),
                attempts,
                face: (rng.below(5) != 0).then(|| rng.score()),
                pose_score: Some(rng.score()),
                color: Some(rng.score()),
                style: Some(rng.score()),
                branding: Some(rng.score()),
                overall: Some(overall),
                passes: passes && error.is_none(),
                failing_metric: (!passes).then(|| metrics[rng.below(5) as usize].to_string()),
                analysis_ms: 100 + rng.below(400) as i64,
                stage1_ms: rng.below(50) as i64,
                stage2_ms: 1000 + rng.below(9000) as i64,
                validation_ms: 200 + rng.below(800) as i64,
                total_ms: 2000 + rng.below(60_000) as i64,
                cost: rng.below(100) as f64 / 1000.0,
                error_code: error,
                ab_test_id: None,
                ab_variant: None,
                // 30 days of history.
                created_at: T0 + rng.below(30 * DAY as u64) as i64,
            }
        })
        .collect()
}

/// The nearest-rank percentile of sorted values.
fn rank(sorted: &[i64], p: i64) -> i64 {
    let n = sorted.len() as i64;
    sorted[((p * n + 99) / 100 - 1) as usize]
}

fn mean(v: impl Iterator<Item = f64>) -> Option<f64> {
    let v: Vec<f64> = v.collect();
    (!v.is_empty()).then(|| v.iter().sum::<f64>() / v.len() as f64)
}

fn close(a: Option<f64>, b: Option<f64>, what: &str) {
    match (a, b) {
        (Some(a), Some(b)) => assert!((a - b).abs() < 1e-9, "{what}: {a} vs {b}"),
        (a, b) => assert_eq!(a.is_some(), b.is_some(), "{what}: {a:?} vs {b:?}"),
    }
}

async fn sessions(s: &Store, user: &str, n: usize) -> Vec<String> {
    let avatar = garmax_store::new_id();
    s.create_avatar(&avatar, user, &NewJob::new("avatar", json!({})))
        .await
        .unwrap();
    let garment = garmax_store::new_id();
    s.insert_garment(&garment, user, &json!({}), &["image".into()])
        .await
        .unwrap();
    let mut ids = Vec::new();
    for _ in 0..n {
        let id = garmax_store::new_id();
        s.create_session(
            &NewSession {
                id: &id,
                user_id: user,
                avatar_id: &avatar,
                garment_id: &garment,
                quality: "hd",
                tier: "standard",
                credits: 0,
            },
            &NewJob::new("noop", json!({})),
        )
        .await
        .unwrap();
        ids.push(id);
    }
    ids
}

#[tokio::test]
async fn analytics_match_a_hand_computed_expectation_on_both_engines() {
    let (_dir, stores) = common::stores().await;
    for (engine, s) in stores {
        let user = s
            .create_user("brand", Role::User, "pro", 0)
            .await
            .unwrap()
            .user;
        // The first 300 generations are real sessions, so they can be rated.
        let mut ids = sessions(&s, &user.id, 300).await;
        ids.extend((300..N).map(|_| garmax_store::new_id()));
        let rows = history(&user.id, &ids);
        s.insert_metrics_batch(&rows).await.unwrap();
        let mut rng = Rng(7);
        let mut ratings: BTreeMap<String, i64> = BTreeMap::new();
        for id in &ids[..300] {
            if rng.below(3) != 0 {
                let r = 1 + rng.below(5) as i64;
                s.rate_session(&user.id, id, r).await.unwrap();
                ratings.insert(id.clone(), r);
            }
        }

        // Days 5..=19 of the history, model johny, as the seed's query.
        let start = T0 + 5 * DAY;
        let end = T0 + 20 * DAY;
        for (model, tier) in [(None, None), (Some("johny"), None), (None, Some("premium"))] {
            let q = AnalyticsQuery {
                start_ms: Some(start),
                end_ms: Some(end),
                model_id: model.map(str::to_string),
                tier: tier.map(str::to_string),
                include_details: true,
                detail_limit: 5,
            };
            let a = s.analytics(&q).await.unwrap();
            let sel: Vec<&GenerationMetrics> = rows
                .iter()
                .filter(|m| m.created_at >= start && m.created_at < end)
                .filter(|m| model.is_none_or(|x| m.model_id.as_deref() == Some(x)))
                .filter(|m| tier.is_none_or(|x| m.tier == x))
                .collect();
            let ctx = format!("{engine} model={model:?} tier={tier:?}");
            assert!(sel.len() > 100, "{ctx}: the window holds {}", sel.len());
            assert_eq!(a.total.count, sel.len() as i64, "{ctx}");
            assert_eq!(
                a.total.passed,
                sel.iter().filter(|m| m.passes).count() as i64,
                "{ctx}"
            );
            let mut t: Vec<i64> = sel.iter().map(|m| m.total_ms).collect();
            t.sort_unstable();
            assert_eq!(
                (a.total.p50_ms, a.total.p95_ms),
                (rank(&t, 50), rank(&t, 95)),
                "{ctx}"
            );
            let cost: f64 = sel.iter().map(|m| m.cost).sum();
            close(Some(a.total.total_cost), Some(cost), &ctx);
            close(a.scores.face, mean(sel.iter().filter_map(|m| m.face)), &ctx);
            close(
                a.scores.overall,
                mean(sel.iter().filter_map(|m| m.overall)),
                &ctx,
            );
            close(
                Some(a.stage_means_ms[2]),
                mean(sel.iter().map(|m| m.stage2_ms as f64)),
                &ctx,
            );

            // Per UTC day: every day of the window has generations here.
            let mut days: BTreeMap<i64, Vec<&GenerationMetrics>> = BTreeMap::new();
            for m in &sel {
                days.entry(m.created_at.div_euclid(DAY))
                    .or_default()
                    .push(m);
            }
            assert_eq!(
                a.daily.iter().map(|d| d.day).collect::<Vec<_>>(),
                days.keys().copied().collect::<Vec<_>>(),
                "{ctx}"
            );
            for d in &a.daily {
                let ms = &days[&d.day];
                assert_eq!(d.count, ms.len() as i64, "{ctx} day {}", d.day);
                assert_eq!(
                    d.passed,
                    ms.iter().filter(|m| m.passes).count() as i64,
                    "{ctx}"
                );
                close(
                    Some(d.total_cost),
                    Some(ms.iter().map(|m| m.cost).sum()),
                    &ctx,
                );
                close(
                    d.mean_overall,
                    mean(ms.iter().filter_map(|m| m.overall)),
                    &ctx,
                );
            }

            // Per model (the own-avatar generations under their label).
            let mut by_model: BTreeMap<String, Vec<&GenerationMetrics>> = BTreeMap::new();
            for m in &sel {
                by_model
                    .entry(m.model_id.clone().unwrap_or_else(|| OWN_AVATAR.into()))
                    .or_default()
                    .push(m);
            }
            assert_eq!(a.by_model.len(), by_model.len(), "{ctx}");
            for g in &a.by_model {
                let want = &by_model[&g.key];
                assert_eq!(g.count, want.len() as i64, "{ctx} {}", g.key);
                assert_eq!(g.passed, want.iter().filter(|m| m.passes).count() as i64);
                let mut t: Vec<i64> = want.iter().map(|m| m.total_ms).collect();
                t.sort_unstable();
                assert_eq!(
                    (g.p50_ms, g.p95_ms),
                    (rank(&t, 50), rank(&t, 95)),
                    "{ctx} {}",
                    g.key
                );
                close(
                    g.mean_overall,
                    mean(want.iter().filter_map(|m| m.overall)),
                    &ctx,
                );
                close(
                    Some(g.mean_attempts),
                    mean(want.iter().map(|m| m.attempts as f64)),
                    &ctx,
                );
            }
            let tiers: Vec<&str> = a.by_tier.iter().map(|g| g.key.as_str()).collect();
            assert!(tiers.windows(2).all(|w| w[0] < w[1]), "{tiers:?}");
            assert_eq!(
                a.by_pose.iter().map(|g| g.count).sum::<i64>(),
                sel.len() as i64
            );

            // Histogram of overall quality in tenths.
            let mut hist = [0i64; 10];
            for m in &sel {
                let o = m.overall.unwrap();
                let b = (0..9).find(|b| o < (b + 1) as f64 / 10.0).unwrap_or(9);
                hist[b] += 1;
            }
            assert_eq!(a.quality_histogram, hist, "{ctx}");

            // Retry patterns and the most common failing metric.
            let mut attempts: BTreeMap<i64, i64> = BTreeMap::new();
            for m in &sel {
                *attempts.entry(m.attempts).or_default() += 1;
            }
            assert_eq!(
                a.attempts_distribution,
                attempts.into_iter().collect::<Vec<_>>()
            );
            assert_eq!(
                a.retried,
                sel.iter().filter(|m| m.attempts > 1).count() as i64
            );
            let mut failing: BTreeMap<String, i64> = BTreeMap::new();
            for m in sel.iter().filter_map(|m| m.failing_metric.clone()) {
                *failing.entry(m).or_default() += 1;
            }
            let mut failing: Vec<(String, i64)> = failing.into_iter().collect();
            failing.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
            assert_eq!(a.failing_metrics, failing, "{ctx}");
            let errors: i64 = a.errors.iter().map(|e| e.1).sum();
            assert_eq!(
                errors,
                sel.iter().filter(|m| m.error_code.is_some()).count() as i64
            );

            // Ratings of the selected generations.
            let rated: Vec<i64> = sel
                .iter()
                .filter_map(|m| ratings.get(&m.session_id).copied())
                .collect();
            assert_eq!(a.ratings_count, rated.len() as i64, "{ctx}");
            close(a.mean_rating, mean(rated.iter().map(|r| *r as f64)), &ctx);
            let mut dist = [0i64; 5];
            for r in &rated {
                dist[(*r - 1) as usize] += 1;
            }
            assert_eq!(a.rating_distribution, dist);

            // Details: the newest first, at most the limit.
            assert_eq!(a.details.len(), 5);
            assert!(
                a.details
                    .windows(2)
                    .all(|w| w[0].created_at >= w[1].created_at)
            );
        }

        // Pruning keeps what is younger than the cut.
        let cut = T0 + 10 * DAY;
        let older = rows.iter().filter(|m| m.created_at < cut).count() as u64;
        assert_eq!(s.prune_metrics(cut).await.unwrap(), older, "{engine}");
        let after = s.analytics(&AnalyticsQuery::default()).await.unwrap();
        assert_eq!(after.total.count, N as i64 - older as i64, "{engine}");
    }
}

#[tokio::test]
async fn ratings_are_one_to_five_and_owner_only() {
    let (_dir, stores) = common::stores().await;
    for (engine, s) in stores {
        let a = s.create_user("a", Role::User, "pro", 0).await.unwrap().user;
        let b = s.create_user("b", Role::User, "pro", 0).await.unwrap().user;
        let id = sessions(&s, &a.id, 1).await.remove(0);
        for bad in [0, 6, -1] {
            assert!(
                s.rate_session(&a.id, &id, bad).await.is_err(),
                "{engine} {bad}"
            );
        }
        assert!(matches!(
            s.rate_session(&b.id, &id, 5).await,
            Err(garmax_store::StoreError::NotFound)
        ));
        s.rate_session(&a.id, &id, 2).await.unwrap();
        s.rate_session(&a.id, &id, 4).await.unwrap();
        assert_eq!(s.rating_of(&id).await.unwrap(), Some(4), "{engine}");
    }
}

#[tokio::test]
async fn ab_variant_sums_count_generations_passes_and_ratings() {
    let (_dir, stores) = common::stores().await;
    for (engine, s) in stores {
        let user = s.create_user("u", Role::User, "pro", 0).await.unwrap().user;
        let t = s
            .create_ab_test(
                "New Quality Feature Test",
                &json!([{"name": "Control", "parameters": {}}, {"name": "Test", "parameters": {}}]),
                "user_rating",
                4.0,
                7.0,
            )
            .await
            .unwrap();
        assert_eq!(s.active_ab_tests(t.starts_at).await.unwrap().len(), 1);
        assert!(s.active_ab_tests(t.ends_at).await.unwrap().is_empty());
        let ids = sessions(&s, &user.id, 40).await;
        let mut rows = history(&user.id, &ids);
        let mut want: BTreeMap<&str, (i64, i64, i64, i64, i64)> = BTreeMap::new();
        for (i, m) in rows.iter_mut().enumerate() {
            let v = if i % 2 == 0 { "Control" } else { "Test" };
            m.ab_test_id = Some(t.id.clone());
            m.ab_variant = Some(v.into());
            let e = want.entry(v).or_default();
            e.0 += 1;
            e.1 += m.passes as i64;
        }
        s.insert_metrics_batch(&rows).await.unwrap();
        for (i, id) in ids.iter().enumerate().filter(|(i, _)| i % 3 != 0) {
            let r = 1 + (i as i64 % 5);
            s.rate_session(&user.id, id, r).await.unwrap();
            let e = want
                .get_mut(if i % 2 == 0 { "Control" } else { "Test" })
                .unwrap();
            e.2 += 1;
            e.3 += r;
            e.4 += r * r;
        }
        let sums = s.ab_variant_sums(&t.id).await.unwrap();
        assert_eq!(sums.len(), 2, "{engine}");
        for v in sums {
            let w = want[v.variant.as_str()];
            assert_eq!(
                (
                    v.generations,
                    v.passed,
                    v.ratings,
                    v.rating_sum,
                    v.rating_sq_sum
                ),
                w,
                "{engine} {}",
                v.variant
            );
        }
    }
}

/// The time of one analytics query over 100,000 stored generations, per
/// engine (printed, not asserted: speed is measured, not tested). Run with
/// `cargo nextest run --workspace -E 'test(analytics_time_over_100k)'
/// --run-ignored only --no-capture`. Measured 2026-12-02 on the 2-core
/// machine, otherwise idle: SQLite 1.02 s over all 100,000 with details,
/// 1.50 s for a 15-day, one-model window of 12,372; PostgreSQL 0.78 s and
/// 0.30 s.
#[tokio::test]
#[ignore = "measurement: inserts 100,000 rows per engine"]
async fn analytics_time_over_100k_generations() {
    let (_dir, stores) = common::stores().await;
    for (engine, s) in stores {
        let user = s
            .create_user("brand", Role::User, "pro", 0)
            .await
            .unwrap()
            .user;
        let ids: Vec<String> = (0..100_000).map(|_| garmax_store::new_id()).collect();
        let rows = history(&user.id, &ids);
        let t = std::time::Instant::now();
        s.insert_metrics_batch(&rows).await.unwrap();
        let insert = t.elapsed();
        let all = AnalyticsQuery {
            include_details: true,
            detail_limit: 100,
            ..Default::default()
        };
        let window = AnalyticsQuery {
            start_ms: Some(T0 + 5 * DAY),
            end_ms: Some(T0 + 20 * DAY),
            model_id: Some("johny".into()),
            tier: None,
            include_details: false,
            detail_limit: 0,
        };
        for (name, q) in [("all 100k, details", &all), ("15 days, johny", &window)] {
            let t = std::time::Instant::now();
            let a = s.analytics(q).await.unwrap();
            eprintln!(
                "{engine}: analytics ({name}) over {} generations: {:?} (insert of 100k: {insert:?})",
                a.total.count,
                t.elapsed()
            );
        }
    }
}
