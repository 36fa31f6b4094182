-- The router's state shared by every serve and worker process (issue 10),
-- and each session's provider attempts. Portable types only, as in 0001.
-- Money is integer micro-dollars, so concurrent sums never drift.

-- Every provider call (or skip) behind a session's renders, in order.
CREATE TABLE provider_attempts (
    id TEXT PRIMARY KEY,
    session_id TEXT NOT NULL REFERENCES sessions (id),
    seq BIGINT NOT NULL,
    render BIGINT NOT NULL,
    provider TEXT NOT NULL,
    outcome TEXT NOT NULL,
    error_class TEXT,
    code TEXT,
    message TEXT,
    latency_ms DOUBLE PRECISION NOT NULL,
    cost_usd DOUBLE PRECISION NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX provider_attempts_session ON provider_attempts (session_id, seq);

-- Spend and open reservations per UTC day and budget scope
-- (`global`, `provider:NAME`, `user:ID`).
CREATE TABLE usage_spend (
    day BIGINT NOT NULL,
    scope TEXT NOT NULL,
    spent_micro BIGINT NOT NULL,
    reserved_micro BIGINT NOT NULL,
    PRIMARY KEY (day, scope)
);

-- Renders started per user and UTC day (MAX_RENDERS_PER_USER_DAILY).
CREATE TABLE usage_daily_renders (
    day BIGINT NOT NULL,
    user_id TEXT NOT NULL,
    renders BIGINT NOT NULL,
    PRIMARY KEY (day, user_id)
);

-- One row per user, updated to serialise that user's slot changes.
CREATE TABLE usage_users (
    user_id TEXT PRIMARY KEY,
    touched_at BIGINT NOT NULL
);

-- Renders in flight (MAX_CONCURRENT_RENDERS_PER_USER); a slot whose worker
-- died expires instead of blocking its user for good.
CREATE TABLE usage_render_slots (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX usage_render_slots_user ON usage_render_slots (user_id, expires_at);

-- A provider's circuit breaker opened by any process: until when (Unix ms;
-- 0 = closed).
CREATE TABLE provider_breakers (
    provider TEXT PRIMARY KEY,
    open_until BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
