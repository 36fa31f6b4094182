-- The render attempt each session event belongs to, so a retry's stages
-- (rendering again after a failed validation) are recorded and streamed
-- instead of being dropped as "not moving forward".
ALTER TABLE session_events ADD COLUMN attempt BIGINT NOT NULL DEFAULT 0;
