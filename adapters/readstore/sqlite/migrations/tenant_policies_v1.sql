CREATE TABLE IF NOT EXISTS tenant_policies_v1 (
    key TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL,
    position INTEGER NOT NULL,
    document TEXT NOT NULL,
    policy_version TEXT NOT NULL
);
