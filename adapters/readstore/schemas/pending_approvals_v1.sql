CREATE TABLE IF NOT EXISTS pending_approvals_v1 (
    key TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL,
    position {{bigint}} NOT NULL,
    document {{json}} NOT NULL,
    kind TEXT NOT NULL,
    case_id TEXT NOT NULL,
    approval_request_id TEXT NOT NULL
);
-- indexes (created when this version is activated: see sql_store.py)
CREATE INDEX IF NOT EXISTS pending_approvals_v1_queue
    ON pending_approvals_v1 (tenant_id, kind, case_id, position);
