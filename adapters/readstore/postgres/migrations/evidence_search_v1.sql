-- Evidence rows; the tsvector index covers approved evidence only.
CREATE TABLE IF NOT EXISTS evidence_search_v1 (
    key TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL,
    position BIGINT NOT NULL,
    document JSONB NOT NULL,
    case_id TEXT NOT NULL,
    status TEXT NOT NULL,
    title TEXT NOT NULL,
    body TEXT NOT NULL,
    search TSVECTOR GENERATED ALWAYS AS (
        to_tsvector('english', title || ' ' || body)
    ) STORED
);
-- indexes (created when this version is activated: see sql_store.py)
CREATE INDEX IF NOT EXISTS evidence_search_v1_case ON evidence_search_v1 (tenant_id, case_id);
CREATE INDEX IF NOT EXISTS evidence_search_v1_text ON evidence_search_v1 USING GIN (search)
    WHERE status = 'approved';
