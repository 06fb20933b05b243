-- The read side's bookkeeping: every projection version and its checkpoint (-1 = nothing yet),
-- which version serves each view, per-stream revisions (gap detection), parked events.
CREATE TABLE IF NOT EXISTS projection_versions (
    projection_id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    version INTEGER NOT NULL,
    position BIGINT NOT NULL DEFAULT -1
);
CREATE TABLE IF NOT EXISTS active_projections (
    name TEXT PRIMARY KEY,
    version INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS projection_stream_revisions (
    projection_id TEXT NOT NULL,
    stream TEXT NOT NULL,
    revision BIGINT NOT NULL,
    PRIMARY KEY (projection_id, stream)
);
CREATE TABLE IF NOT EXISTS parked_events (
    projection_id TEXT NOT NULL,
    position BIGINT NOT NULL,
    event_id TEXT NOT NULL,
    stream TEXT NOT NULL,
    revision BIGINT NOT NULL,
    event_type TEXT NOT NULL,
    reason TEXT NOT NULL,
    attempts INTEGER NOT NULL,
    PRIMARY KEY (projection_id, event_id)
);
