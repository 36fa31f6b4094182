//! The admin analytics of generations (the seed's `GET /api/admin/analytics`),
//! computed in SQL that SQLite and PostgreSQL read the same way: counts and
//! sums cast to BIGINT, means to DOUBLE PRECISION, percentiles by nearest
//! rank over `ROW_NUMBER()` windows (rank ⌈p·n⌉), score histograms by
//! explicit `CASE` buckets (no FLOOR, which SQLite may lack).

use sqlx::Row as _;

use crate::{Store, StoreError};

/// The seed's query parameters, as epoch milliseconds and exact filters.
#[derive(Debug, Clone, Default)]
pub struct AnalyticsQuery {
    /// Inclusive lower bound on `created_at`.
    pub start_ms: Option<i64>,
    /// Exclusive upper bound on `created_at`.
    pub end_ms: Option<i64>,
    pub model_id: Option<String>,
    pub tier: Option<String>,
    /// Include the newest rows themselves (at most `detail_limit`).
    pub include_details: bool,
    pub detail_limit: i64,
}

/// Counts and means of one group (a model, a pose, a tier).
#[derive(Debug, Clone, PartialEq)]
pub struct GroupStats {
    pub key: String,
    pub count: i64,
    pub passed: i64,
    pub mean_overall: Option<f64>,
    pub mean_attempts: f64,
    pub total_cost: f64,
    pub p50_ms: i64,
    pub p95_ms: i64,
}

impl GroupStats {
    pub fn success_rate(&self) -> f64 {
        if self.count == 0 {
            0.0
        } else {
            self.passed as f64 / self.count as f64
        }
    }
}

/// Means of the five scores and the overall quality.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ScoreMeans {
    pub face: Option<f64>,
    pub pose: Option<f64>,
    pub color: Option<f64>,
    pub style: Option<f64>,
    pub branding: Option<f64>,
    pub overall: Option<f64>,
}

/// One UTC day's generations.
#[derive(Debug, Clone, PartialEq)]
pub struct DayStats {
    /// Days since 1970-01-01 (UTC).
    pub day: i64,
    pub count: i64,
    pub passed: i64,
    pub mean_overall: Option<f64>,
    pub mean_attempts: f64,
    pub total_cost: f64,
}

/// Everything the analytics endpoint reports.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Analytics {
    pub total: GroupStats,
    pub by_model: Vec<GroupStats>,
    pub by_pose: Vec<GroupStats>,
    pub by_tier: Vec<GroupStats>,
    /// Mean milliseconds per stage: analysis, stage 1, stage 2, validation.
    pub stage_means_ms: [f64; 4],
    pub scores: ScoreMeans,
    /// Overall quality in ten buckets [0, 0.1), …, [0.9, 1.0].
    pub quality_histogram: [i64; 10],
    /// (attempts, generations) ascending.
    pub attempts_distribution: Vec<(i64, i64)>,
    /// Generations with more than one attempt.
    pub retried: i64,
    /// (metric, generations whose first attempt failed it most), most first.
    pub failing_metrics: Vec<(String, i64)>,
    /// (code, generations) most first.
    pub errors: Vec<(String, i64)>,
    pub ratings_count: i64,
    pub mean_rating: Option<f64>,
    /// Ratings 1..=5.
    pub rating_distribution: [i64; 5],
    /// Per UTC day with generations, ascending.
    pub daily: Vec<DayStats>,
    pub details: Vec<crate::generations::GenerationMetrics>,
}

impl Default for GroupStats {
    fn default() -> Self {
        GroupStats {
            key: String::new(),
            count: 0,
            passed: 0,
            mean_overall: None,
            mean_attempts: 0.0,
            total_cost: 0.0,
            p50_ms: 0,
            p95_ms: 0,
        }
    }
}

/// The label of a generation on the user's own avatar (no persona).
pub const OWN_AVATAR: &str = "(own avatar)";

/// A WHERE clause and its values, in bind order.
struct Filter {
    sql: String,
    ints: Vec<i64>,
    texts: Vec<String>,
}

impl Filter {
    /// `created_at` bounds first ($1, $2 …), then the text filters.
    fn of(q: &AnalyticsQuery) -> Filter {
        let mut parts = vec!["1 = 1".to_string()];
        let mut ints = Vec::new();
        let mut texts = Vec::new();
        let mut n = 0;
        if let Some(s) = q.start_ms {
            n += 1;
            parts.push(format!("m.created_at >= ${n}"));
            ints.push(s);
        }
        if let Some(e) = q.end_ms {
            n += 1;
            parts.push(format!("m.created_at < ${n}"));
            ints.push(e);
        }
        if let Some(model) = &q.model_id {
            n += 1;
            parts.push(format!("m.model_id = ${n}"));
            texts.push(model.clone());
        }
        if let Some(tier) = &q.tier {
            n += 1;
            parts.push(format!("m.tier = ${n}"));
            texts.push(tier.clone());
        }
        Filter {
            sql: parts.join(" AND "),
            ints,
            texts,
        }
    }

    fn bind<'q>(
        &'q self,
        mut q: sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments>,
    ) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments> {
        for i in &self.ints {
            q = q.bind(*i);
        }
        for t in &self.texts {
            q = q.bind(t.as_str());
        }
        q
    }
}

/// The grouping expressions of the three dimensions.
fn dimension(name: &str) -> String {
    match name {
        "model" => format!("COALESCE(m.model_id, '{OWN_AVATAR}')"),
        "pose" => format!("COALESCE(m.pose, '{OWN_AVATAR}')"),
        _ => "m.tier".to_string(),
    }
}

const BUCKETS: usize = 10;

fn histogram_case() -> String {
    let mut s = String::from("CASE");
    for b in 0..BUCKETS - 1 {
        s.push_str(&format!(
            " WHEN m.overall < {:.1} THEN {b}",
            (b + 1) as f64 / 10.0
        ));
    }
    s.push_str(&format!(" ELSE {} END", BUCKETS - 1));
    s
}

impl Store {
    /// The analytics of the generations `q` selects.
    pub async fn analytics(&self, q: &AnalyticsQuery) -> Result<Analytics, StoreError> {
        let f = Filter::of(q);
        let mut a = Analytics {
            total: self.groups(&f, None).await?.pop().unwrap_or_default(),
            by_model: self.groups(&f, Some("model")).await?,
            by_pose: self.groups(&f, Some("pose")).await?,
            by_tier: self.groups(&f, Some("tier")).await?,
            ..Analytics::default()
        };
        a.total.key = "all".into();

        let sql = format!(
            "SELECT CAST(AVG(m.analysis_ms) AS DOUBLE PRECISION) AS a, \
             CAST(AVG(m.stage1_ms) AS DOUBLE PRECISION) AS s1, \
             CAST(AVG(m.stage2_ms) AS DOUBLE PRECISION) AS s2, \
             CAST(AVG(m.validation_ms) AS DOUBLE PRECISION) AS v, \
             CAST(AVG(m.score_face) AS DOUBLE PRECISION) AS face, \
             CAST(AVG(m.score_pose) AS DOUBLE PRECISION) AS pose, \
             CAST(AVG(m.score_color) AS DOUBLE PRECISION) AS color, \
             CAST(AVG(m.score_style) AS DOUBLE PRECISION) AS style, \
             CAST(AVG(m.score_branding) AS DOUBLE PRECISION) AS branding, \
             CAST(AVG(m.overall) AS DOUBLE PRECISION) AS overall, \
             CAST(COALESCE(SUM(CASE WHEN m.attempts > 1 THEN 1 ELSE 0 END), 0) AS BIGINT) AS retried \
             FROM generation_metrics m WHERE {}",
            f.sql
        );
        let row = f
            .bind(sqlx::query(sqlx::AssertSqlSafe(sql)))
            .fetch_one(self.pool())
            .await?;
        let opt = |k: &str| row.try_get::<Option<f64>, _>(k);
        a.stage_means_ms = [
            opt("a")?.unwrap_or(0.0),
            opt("s1")?.unwrap_or(0.0),
            opt("s2")?.unwrap_or(0.0),
            opt("v")?.unwrap_or(0.0),
        ];
        a.scores = ScoreMeans {
            face: opt("face")?,
            pose: opt("pose")?,
            color: opt("color")?,
            style: opt("style")?,
            branding: opt("branding")?,
            overall: opt("overall")?,
        };
        a.retried = row.try_get("retried")?;

        let sql = format!(
            "SELECT {} AS b, COUNT(*) AS n FROM generation_metrics m WHERE {} AND m.overall IS NOT NULL \
             GROUP BY {} ORDER BY b",
            histogram_case(),
            f.sql,
            histogram_case()
        );
        for r in f
            .bind(sqlx::query(sqlx::AssertSqlSafe(sql)))
            .fetch_all(self.pool())
            .await?
        {
            let b: i64 = r.try_get("b")?;
            a.quality_histogram[(b as usize).min(BUCKETS - 1)] = r.try_get("n")?;
        }

        let sql = format!(
            "SELECT m.attempts AS k, COUNT(*) AS n FROM generation_metrics m WHERE {} \
             GROUP BY m.attempts ORDER BY m.attempts",
            f.sql
        );
        for r in f
            .bind(sqlx::query(sqlx::AssertSqlSafe(sql)))
            .fetch_all(self.pool())
            .await?
        {
            a.attempts_distribution
                .push((r.try_get("k")?, r.try_get("n")?));
        }
        a.failing_metrics = self
            .counted(&f, "m.failing_metric", "m.failing_metric IS NOT NULL")
            .await?;
        a.errors = self
            .counted(&f, "m.error_code", "m.error_code IS NOT NULL")
            .await?;

        let sql = format!(
            "SELECT r.rating AS k, COUNT(*) AS n FROM generation_metrics m \
             JOIN session_ratings r ON r.session_id = m.session_id WHERE {} GROUP BY r.rating",
            f.sql
        );
        let mut sum = 0i64;
        for r in f
            .bind(sqlx::query(sqlx::AssertSqlSafe(sql)))
            .fetch_all(self.pool())
            .await?
        {
            let k: i64 = r.try_get("k")?;
            let n: i64 = r.try_get("n")?;
            if (1..=5).contains(&k) {
                a.rating_distribution[(k - 1) as usize] = n;
                a.ratings_count += n;
                sum += k * n;
            }
        }
        a.mean_rating = (a.ratings_count > 0).then(|| sum as f64 / a.ratings_count as f64);

        a.daily = self.daily(&f).await?;
        if q.include_details {
            let sql = format!(
                "SELECT {} FROM generation_metrics m WHERE {} ORDER BY m.created_at DESC, m.session_id LIMIT {}",
                crate::generations::METRICS_SELECT_COLUMNS
                    .split(", ")
                    .map(|c| format!("m.{c}"))
                    .collect::<Vec<_>>()
                    .join(", "),
                f.sql,
                q.detail_limit.clamp(1, 1000)
            );
            for r in f
                .bind(sqlx::query(sqlx::AssertSqlSafe(sql)))
                .fetch_all(self.pool())
                .await?
            {
                a.details.push(crate::generations::metrics_from_row(&r)?);
            }
        }
        Ok(a)
    }

    /// The generations of each UTC day (integer division of the epoch ms,
    /// which both engines do on BIGINT).
    async fn daily(&self, f: &Filter) -> Result<Vec<DayStats>, StoreError> {
        let sql = format!(
            "SELECT m.created_at / 86400000 AS d, COUNT(*) AS n, \
             CAST(COALESCE(SUM(m.passes), 0) AS BIGINT) AS passed, \
             CAST(AVG(m.overall) AS DOUBLE PRECISION) AS mo, \
             CAST(AVG(m.attempts) AS DOUBLE PRECISION) AS ma, \
             CAST(COALESCE(SUM(m.cost), 0) AS DOUBLE PRECISION) AS c \
             FROM generation_metrics m WHERE {} GROUP BY m.created_at / 86400000 ORDER BY d",
            f.sql
        );
        f.bind(sqlx::query(sqlx::AssertSqlSafe(sql)))
            .fetch_all(self.pool())
            .await?
            .iter()
            .map(|r| {
                Ok(DayStats {
                    day: r.try_get("d")?,
                    count: r.try_get("n")?,
                    passed: r.try_get("passed")?,
                    mean_overall: r.try_get("mo")?,
                    mean_attempts: r.try_get::<Option<f64>, _>("ma")?.unwrap_or(0.0),
                    total_cost: r.try_get("c")?,
                })
            })
            .collect()
    }

    /// (value, count) of `expr` over the rows where `cond`, most first.
    async fn counted(
        &self,
        f: &Filter,
        expr: &str,
        cond: &str,
    ) -> Result<Vec<(String, i64)>, StoreError> {
        let sql = format!(
            "SELECT {expr} AS k, COUNT(*) AS n FROM generation_metrics m WHERE {} AND {cond} \
             GROUP BY {expr}",
            f.sql
        );
        f.bind(sqlx::query(sqlx::AssertSqlSafe(sql)))
            .fetch_all(self.pool())
            .await?
            .iter()
            .map(|r| Ok((r.try_get("k")?, r.try_get("n")?)))
            .collect::<Result<Vec<(String, i64)>, StoreError>>()
            .map(|mut v| {
                v.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
                v
            })
    }

    /// Counts, means and p50/p95 of `total_ms` per group of `dim` (all
    /// rows as one group when `None`).
    async fn groups(&self, f: &Filter, dim: Option<&str>) -> Result<Vec<GroupStats>, StoreError> {
        // PostgreSQL refuses a constant in GROUP BY: the whole set is one
        // group without it.
        let (key, group, partition) = match dim {
            Some(d) => {
                let k = dimension(d);
                (
                    k.clone(),
                    format!("GROUP BY {k}"),
                    format!("PARTITION BY {k} "),
                )
            }
            None => ("'all'".to_string(), String::new(), String::new()),
        };
        let sql = format!(
            "SELECT {key} AS k, COUNT(*) AS n, CAST(COALESCE(SUM(m.passes), 0) AS BIGINT) AS passed, \
             CAST(AVG(m.overall) AS DOUBLE PRECISION) AS mo, \
             CAST(AVG(m.attempts) AS DOUBLE PRECISION) AS ma, \
             CAST(COALESCE(SUM(m.cost), 0) AS DOUBLE PRECISION) AS c \
             FROM generation_metrics m WHERE {} {group}",
            f.sql
        );
        let mut out: Vec<GroupStats> = Vec::new();
        for r in f
            .bind(sqlx::query(sqlx::AssertSqlSafe(sql)))
            .fetch_all(self.pool())
            .await?
        {
            let n: i64 = r.try_get("n")?;
            if n == 0 {
                // The ungrouped aggregate of an empty set.
                continue;
            }
            out.push(GroupStats {
                key: r.try_get("k")?,
                count: n,
                passed: r.try_get("passed")?,
                mean_overall: r.try_get("mo")?,
                mean_attempts: r.try_get::<Option<f64>, _>("ma")?.unwrap_or(0.0),
                total_cost: r.try_get("c")?,
                p50_ms: 0,
                p95_ms: 0,
            });
        }
        // Nearest rank: the value at rank ceil(p·n) = (p·n + 99) / 100.
        let sql = format!(
            "SELECT k, t, rn, n FROM (SELECT {key} AS k, m.total_ms AS t, \
             ROW_NUMBER() OVER ({partition}ORDER BY m.total_ms) AS rn, \
             COUNT(*) OVER ({partition}) AS n \
             FROM generation_metrics m WHERE {}) ranked \
             WHERE rn = (50 * n + 99) / 100 OR rn = (95 * n + 99) / 100",
            f.sql
        );
        for r in f
            .bind(sqlx::query(sqlx::AssertSqlSafe(sql)))
            .fetch_all(self.pool())
            .await?
        {
            let k: String = r.try_get("k")?;
            let t: i64 = r.try_get("t")?;
            let rn: i64 = r.try_get("rn")?;
            let n: i64 = r.try_get("n")?;
            if let Some(g) = out.iter_mut().find(|g| g.key == k) {
                if rn == (50 * n + 99) / 100 {
                    g.p50_ms = t;
                }
                if rn == (95 * n + 99) / 100 {
                    g.p95_ms = t;
                }
            }
        }
        // Byte order, the same on both engines (their collations differ).
        out.sort_by(|a, b| a.key.cmp(&b.key));
        Ok(out)
    }
}
