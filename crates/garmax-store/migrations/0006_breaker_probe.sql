-- The probe of a shared breaker: once a provider's cooldown has passed,
-- the one process that claims the probe (until probe_until, Unix ms) sends
-- it, the others skip the provider until its outcome is shared.
ALTER TABLE provider_breakers ADD COLUMN probe_until BIGINT NOT NULL DEFAULT 0;
