-- Billing: the ledger's actor and subject, a balance row per user that a
-- CHECK keeps non-negative, avatar holds, session charge/refund times,
-- billing periods and Stripe's subscriptions and events.

ALTER TABLE credit_entries ADD COLUMN actor TEXT NOT NULL DEFAULT 'system';
-- The session or avatar an entry is about (holds, captures, releases,
-- refunds); the invoice of a purchase.
ALTER TABLE credit_entries ADD COLUMN subject TEXT;
CREATE INDEX credit_entries_user_time ON credit_entries (user_id, created_at, id);

-- The balance, kept equal to SUM(credit_entries.amount) by every append in
-- the same transaction (a conditional UPDATE, never read-modify-write), and
-- never negative (the CHECK refuses what the conditional UPDATE let slip).
CREATE TABLE credit_balances (
    user_id TEXT PRIMARY KEY REFERENCES users (id),
    balance BIGINT NOT NULL CHECK (balance >= 0)
);
INSERT INTO credit_balances (user_id, balance)
    SELECT u.id, COALESCE((SELECT SUM(c.amount) FROM credit_entries c WHERE c.user_id = u.id), 0)
    FROM users u;

-- The billing period the monthly quotas count in, and what Stripe says of
-- the user.
ALTER TABLE users ADD COLUMN period_start BIGINT NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN period_end BIGINT NOT NULL DEFAULT 0;
-- When set, the plan falls back to free at this time (a subscription
-- deleted at the end of its period).
ALTER TABLE users ADD COLUMN plan_ends_at BIGINT;
ALTER TABLE users ADD COLUMN stripe_customer_id TEXT;
UPDATE users SET period_start = created_at, period_end = created_at + 2592000000;

ALTER TABLE avatars ADD COLUMN credits_held BIGINT NOT NULL DEFAULT 0;
ALTER TABLE avatars ADD COLUMN job_id TEXT;

ALTER TABLE sessions ADD COLUMN job_id TEXT;
-- Set when the hold became a charge (confirm, auto-confirm) and when that
-- charge was refunded.
ALTER TABLE sessions ADD COLUMN charged_at BIGINT;
ALTER TABLE sessions ADD COLUMN refunded_at BIGINT;

-- Stripe events already applied: a redelivery is acknowledged, not applied.
CREATE TABLE stripe_events (
    id TEXT PRIMARY KEY,
    type TEXT NOT NULL,
    created BIGINT NOT NULL,
    received_at BIGINT NOT NULL
);

-- The latest state of each Stripe subscription; `event_created` orders
-- deliveries (an older event than the one applied changes nothing).
CREATE TABLE stripe_subscriptions (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users (id),
    customer_id TEXT NOT NULL,
    price_id TEXT NOT NULL,
    plan TEXT NOT NULL,
    status TEXT NOT NULL,
    current_period_start BIGINT NOT NULL,
    current_period_end BIGINT NOT NULL,
    event_created BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX stripe_subscriptions_user ON stripe_subscriptions (user_id);
