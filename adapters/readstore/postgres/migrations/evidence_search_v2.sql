-- Evidence rows. v2: the tsvector is computed for approved evidence only (NULL otherwise), the
-- only evidence ever searched; v1 computed it for every row.
CREATE TABLE IF NOT EXISTS evidence_search_v2 (
    key TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL,
    position BIGINT NOT NULL,
    document JSONB NOT NULL,
    case_id TEXT NOT NULL,
    status TEXT NOT NULL,
    title TEXT NOT NULL,
    body TEXT NOT NULL,
    search TSVECTOR GENERATED ALWAYS AS (
        CASE WHEN status = 'approved' THEN to_tsvector('english', title || ' ' || body) END
    ) STORED
);
-- indexes (created when this version is activated: see sql_store.py)
CREATE INDEX IF NOT EXISTS evidence_search_v2_case ON evidence_search_v2 (tenant_id, case_id);
CREATE INDEX IF NOT EXISTS evidence_search_v2_text ON evidence_search_v2 USING GIN (search)
    WHERE status = 'approved';
