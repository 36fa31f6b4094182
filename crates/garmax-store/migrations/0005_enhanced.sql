-- The enhanced try-on API: catalogue personas and their poses, enhanced
-- generations, per-generation metrics, ratings and A/B tests. Portable
-- types only, as in 0001.

-- The owner of catalogue avatars (a persona pose's reference photo is
-- processed like a user's avatar once). It has no API keys: nobody can
-- sign in as it.
INSERT INTO users (id, name, role, plan, created_at)
VALUES ('00000000-0000-0000-0000-000000000000', '_catalogue', 'system', 'none', 0);

-- Markers of one-time work (the catalogue seeded from config/personas.toml
-- on first start): the first process to insert a key does the work.
CREATE TABLE store_markers (
    key TEXT PRIMARY KEY,
    created_at BIGINT NOT NULL
);

-- The seed's model personas (`johny`): characteristics as a JSON object.
CREATE TABLE personas (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    characteristics TEXT NOT NULL,
    consistency_threshold DOUBLE PRECISION NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

-- A persona's poses, in order; `name_key` is the lower-cased name (poses
-- match case-insensitively). `avatar_id` is the processed reference photo.
CREATE TABLE persona_poses (
    persona_id TEXT NOT NULL REFERENCES personas (id) ON DELETE CASCADE,
    name_key TEXT NOT NULL,
    name TEXT NOT NULL,
    position BIGINT NOT NULL,
    avatar_id TEXT REFERENCES avatars (id),
    PRIMARY KEY (persona_id, name_key)
);

-- An enhanced generation is a try-on session (its progress, events and
-- image) plus the seed's request fields and, when done, the response body.
CREATE TABLE enhanced_generations (
    session_id TEXT PRIMARY KEY REFERENCES sessions (id),
    user_id TEXT NOT NULL REFERENCES users (id),
    model_id TEXT,
    pose TEXT,
    tier TEXT NOT NULL,
    enable_retry BIGINT NOT NULL,
    max_retries BIGINT NOT NULL,
    product_analysis TEXT,
    prompts TEXT NOT NULL,
    ab_test_id TEXT,
    ab_variant TEXT,
    started_at BIGINT,
    finished_at BIGINT,
    response TEXT,
    error_code TEXT,
    created_at BIGINT NOT NULL
);
CREATE INDEX enhanced_generations_user ON enhanced_generations (user_id, created_at);

-- One row per generation (written when it ends, rewritten if a retried job
-- ends again): what the analytics are computed from.
CREATE TABLE generation_metrics (
    session_id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL,
    model_id TEXT,
    pose TEXT,
    tier TEXT NOT NULL,
    provider TEXT NOT NULL,
    attempts BIGINT NOT NULL,
    score_face DOUBLE PRECISION,
    score_pose DOUBLE PRECISION,
    score_color DOUBLE PRECISION,
    score_style DOUBLE PRECISION,
    score_branding DOUBLE PRECISION,
    overall DOUBLE PRECISION,
    passes BIGINT NOT NULL,
    failing_metric TEXT,
    analysis_ms BIGINT NOT NULL,
    stage1_ms BIGINT NOT NULL,
    stage2_ms BIGINT NOT NULL,
    validation_ms BIGINT NOT NULL,
    total_ms BIGINT NOT NULL,
    cost DOUBLE PRECISION NOT NULL,
    error_code TEXT,
    ab_test_id TEXT,
    ab_variant TEXT,
    created_at BIGINT NOT NULL
);
CREATE INDEX generation_metrics_time ON generation_metrics (created_at);
CREATE INDEX generation_metrics_ab ON generation_metrics (ab_test_id, ab_variant);

-- A user's 1–5 rating of a session (any try-on session, enhanced or not).
CREATE TABLE session_ratings (
    session_id TEXT PRIMARY KEY REFERENCES sessions (id),
    user_id TEXT NOT NULL REFERENCES users (id),
    rating BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

-- The seed's A/B tests: variants with parameter overrides (JSON), a
-- duration and the success metric.
CREATE TABLE ab_tests (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    variants TEXT NOT NULL,
    primary_metric TEXT NOT NULL,
    threshold DOUBLE PRECISION NOT NULL,
    starts_at BIGINT NOT NULL,
    ends_at BIGINT NOT NULL,
    created_at BIGINT NOT NULL
);
