CREATE TABLE IF NOT EXISTS audit_index_v1 (
    key TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL,
    position {{bigint}} NOT NULL,
    document {{json}} NOT NULL,
    kind TEXT NOT NULL,
    correlation_id TEXT,
    causation_id TEXT,
    case_id TEXT,
    actor TEXT,
    run_id TEXT
);
-- indexes (created when this version is activated: see sql_store.py)
CREATE INDEX IF NOT EXISTS audit_index_v1_case
    ON audit_index_v1 (tenant_id, kind, case_id, position);
CREATE INDEX IF NOT EXISTS audit_index_v1_correlation
    ON audit_index_v1 (tenant_id, kind, correlation_id, position);
CREATE INDEX IF NOT EXISTS audit_index_v1_run
    ON audit_index_v1 (tenant_id, kind, run_id, position);
