CREATE TABLE IF NOT EXISTS tenant_policies_v1 (
    key TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL,
    position BIGINT NOT NULL,
    document JSONB NOT NULL,
    policy_version TEXT NOT NULL
);
