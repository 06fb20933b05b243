CREATE TABLE IF NOT EXISTS notice_drafts_v1 (
    key TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL,
    position {{bigint}} NOT NULL,
    document {{json}} NOT NULL,
    case_id TEXT NOT NULL,
    status TEXT NOT NULL
);
-- indexes (created when this version is activated: see sql_store.py)
CREATE INDEX IF NOT EXISTS notice_drafts_v1_case ON notice_drafts_v1 (tenant_id, case_id, position);
