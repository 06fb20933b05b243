CREATE TABLE IF NOT EXISTS case_agent_context_v1 (
    key TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL,
    position INTEGER NOT NULL,
    document TEXT NOT NULL,
    status TEXT
);
