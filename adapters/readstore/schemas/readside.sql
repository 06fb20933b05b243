-- The read side's bookkeeping: every projection version and its checkpoint (-1 = nothing yet)
-- and retry generation (moved by each retry of parked events), which version serves each view,
-- per-stream revisions (the last applied: gap detection, order under parking), parked events.
CREATE TABLE IF NOT EXISTS projection_versions (
    projection_id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    version INTEGER NOT NULL,
    position {{bigint}} NOT NULL DEFAULT -1,
    generation {{bigint}} NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS active_projections (
    name TEXT PRIMARY KEY,
    version INTEGER NOT NULL,
    projection_id TEXT
);
CREATE TABLE IF NOT EXISTS projection_stream_revisions (
    projection_id TEXT NOT NULL,
    stream TEXT NOT NULL,
    revision {{bigint}} NOT NULL,
    PRIMARY KEY (projection_id, stream)
){{without_rowid}};
CREATE TABLE IF NOT EXISTS parked_events (
    projection_id TEXT NOT NULL,
    position {{bigint}} NOT NULL,
    event_id TEXT NOT NULL,
    stream TEXT NOT NULL,
    revision {{bigint}} NOT NULL,
    event_type TEXT NOT NULL,
    reason TEXT NOT NULL,
    attempts INTEGER NOT NULL,
    PRIMARY KEY (projection_id, event_id)
);
-- Leases: one active holder of a piece of work per read store (the projection runner, the
-- outbox relay) until `expires_at` (seconds since the epoch, moved by each renewal), and the
-- standbys waiting for it (seen until `seen_until`).
CREATE TABLE IF NOT EXISTS leases (
    name TEXT PRIMARY KEY,
    holder TEXT NOT NULL,
    expires_at {{double}} NOT NULL
);
CREATE TABLE IF NOT EXISTS lease_standbys (
    name TEXT NOT NULL,
    holder TEXT NOT NULL,
    seen_until {{double}} NOT NULL,
    PRIMARY KEY (name, holder)
);
