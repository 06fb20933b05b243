CREATE TABLE IF NOT EXISTS case_summary_v1 (
    key TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL,
    position {{bigint}} NOT NULL,
    document {{json}} NOT NULL,
    status TEXT,
    risk_level TEXT,
    assigned_team TEXT
);
-- indexes (created when this version is activated: see sql_store.py)
CREATE INDEX IF NOT EXISTS case_summary_v1_dashboard
    ON case_summary_v1 (tenant_id, status, risk_level, assigned_team, position);
CREATE INDEX IF NOT EXISTS case_summary_v1_recent ON case_summary_v1 (tenant_id, position);
