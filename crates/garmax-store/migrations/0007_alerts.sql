-- Alerts (the seed's alertConfig): named leases so one process of many
-- evaluates them, the latest CPU / memory reading of every host, the alerts
-- themselves (at most one firing per kind and subject) and an outbox of
-- their notifications, written in the same transaction as the state change
-- they announce.

CREATE TABLE store_leases (
    name TEXT PRIMARY KEY,
    holder TEXT NOT NULL,
    until_ms BIGINT NOT NULL,
    renewed_at BIGINT NOT NULL
);

CREATE TABLE host_health (
    host TEXT PRIMARY KEY,
    cpu_percent DOUBLE PRECISION NOT NULL,
    memory_percent DOUBLE PRECISION NOT NULL,
    updated_at BIGINT NOT NULL
);

CREATE TABLE alerts (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    subject TEXT NOT NULL,
    state TEXT NOT NULL,
    severity TEXT NOT NULL,
    message TEXT NOT NULL,
    value DOUBLE PRECISION NOT NULL,
    threshold DOUBLE PRECISION NOT NULL,
    fired_at BIGINT NOT NULL,
    resolved_at BIGINT,
    resolved_message TEXT
);
-- Two evaluators racing past an expired lease still open one alert.
CREATE UNIQUE INDEX alerts_one_firing ON alerts (kind, subject) WHERE state = 'firing';
CREATE INDEX alerts_fired ON alerts (fired_at);

CREATE TABLE alert_deliveries (
    id TEXT PRIMARY KEY,
    alert_id TEXT NOT NULL REFERENCES alerts (id),
    event TEXT NOT NULL,
    channel TEXT NOT NULL,
    target TEXT NOT NULL,
    attempts BIGINT NOT NULL,
    next_at BIGINT NOT NULL,
    delivered_at BIGINT,
    last_error TEXT,
    created_at BIGINT NOT NULL
);
CREATE INDEX alert_deliveries_alert ON alert_deliveries (alert_id);
CREATE INDEX alert_deliveries_due ON alert_deliveries (delivered_at, next_at);
