-- One schema for SQLite and PostgreSQL: only types both engines read the
-- same way through sqlx's Any driver (TEXT, BIGINT, DOUBLE PRECISION).
-- Times are milliseconds since the Unix epoch; ids are UUID strings made by
-- the server; JSON documents are TEXT.

CREATE TABLE users (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    role TEXT NOT NULL,
    plan TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

CREATE TABLE api_keys (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users (id),
    key_hash TEXT NOT NULL UNIQUE,
    created_at BIGINT NOT NULL,
    revoked_at BIGINT
);

-- Append-only: the balance is the sum of a user's entries.
CREATE TABLE credit_entries (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users (id),
    kind TEXT NOT NULL,
    amount BIGINT NOT NULL,
    idempotency_key TEXT NOT NULL UNIQUE,
    reason TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX credit_entries_user ON credit_entries (user_id);

CREATE TABLE avatars (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users (id),
    status TEXT NOT NULL,
    error_code TEXT,
    error_message TEXT,
    files TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    deleted_at BIGINT
);
CREATE INDEX avatars_user ON avatars (user_id, created_at);

CREATE TABLE garments (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users (id),
    analysis TEXT NOT NULL,
    files TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    deleted_at BIGINT
);
CREATE INDEX garments_user ON garments (user_id, created_at);

CREATE TABLE sessions (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users (id),
    avatar_id TEXT NOT NULL REFERENCES avatars (id),
    garment_id TEXT NOT NULL REFERENCES garments (id),
    quality TEXT NOT NULL,
    tier TEXT NOT NULL,
    status TEXT NOT NULL,
    stage TEXT NOT NULL,
    progress BIGINT NOT NULL,
    message TEXT NOT NULL,
    eta_ms BIGINT,
    validation TEXT,
    attempts BIGINT NOT NULL,
    error_code TEXT,
    error_message TEXT,
    has_preview BIGINT NOT NULL,
    auto_confirm_at BIGINT,
    -- Held from the balance at creation; captured at confirm, released
    -- at reject, cancel or failure.
    credits_held BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX sessions_user ON sessions (user_id, created_at);

-- The status updates of a session, in order; `seq` is what SSE clients
-- resume from (Last-Event-ID).
CREATE TABLE session_events (
    session_id TEXT NOT NULL REFERENCES sessions (id),
    seq BIGINT NOT NULL,
    status TEXT NOT NULL,
    stage TEXT NOT NULL,
    progress BIGINT NOT NULL,
    message TEXT NOT NULL,
    eta_ms BIGINT,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (session_id, seq)
);

-- The durable job queue. A worker claims a row by setting `locked_by` and a
-- lease; `attempts` doubles as the fencing token of that claim.
CREATE TABLE jobs (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    payload TEXT NOT NULL,
    priority BIGINT NOT NULL,
    status TEXT NOT NULL,
    attempts BIGINT NOT NULL,
    max_attempts BIGINT NOT NULL,
    run_at BIGINT NOT NULL,
    locked_by TEXT,
    lease_until BIGINT,
    last_error TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX jobs_ready ON jobs (status, priority, run_at);

-- Recent durations of each pipeline stage, for ETAs.
CREATE TABLE stage_timings (
    id TEXT PRIMARY KEY,
    stage TEXT NOT NULL,
    duration_ms BIGINT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX stage_timings_stage ON stage_timings (stage, created_at);
