CREATE TABLE IF NOT EXISTS case_agent_context_v1 (
    key TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL,
    position {{bigint}} NOT NULL,
    document {{json}} NOT NULL,
    status TEXT
);
