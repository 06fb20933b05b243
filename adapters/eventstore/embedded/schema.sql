-- The embedded store's log: one row per event, in commit order.
CREATE TABLE IF NOT EXISTS events (
    position     INTEGER PRIMARY KEY,   -- $all commit position (byte-offset-like)
    stream       TEXT    NOT NULL,
    revision     INTEGER NOT NULL,      -- 0-based, per stream
    event_id     TEXT    NOT NULL,
    type         TEXT    NOT NULL,
    content_type TEXT    NOT NULL,
    data         BLOB    NOT NULL,
    metadata     BLOB    NOT NULL,
    created      INTEGER NOT NULL       -- .NET ticks since the Unix epoch
);
CREATE UNIQUE INDEX IF NOT EXISTS events_by_stream ON events (stream, revision);
CREATE INDEX IF NOT EXISTS events_by_id ON events (event_id);

-- Only streams with metadata ($tb) or a tombstone have a row; a stream's last revision is
-- max(revision) in events (the index answers it), so a plain append writes one row, not two.
CREATE TABLE IF NOT EXISTS streams (
    name            TEXT    PRIMARY KEY,
    truncate_before INTEGER NOT NULL DEFAULT 0,  -- from $tb in the stream's metadata
    tombstoned      INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;

CREATE TABLE IF NOT EXISTS store_info (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
) WITHOUT ROWID;
