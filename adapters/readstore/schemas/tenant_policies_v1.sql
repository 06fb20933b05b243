CREATE TABLE IF NOT EXISTS tenant_policies_v1 (
    key TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL,
    position {{bigint}} NOT NULL,
    document {{json}} NOT NULL,
    policy_version TEXT NOT NULL
);
