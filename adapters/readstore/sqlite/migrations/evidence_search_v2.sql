-- Evidence rows; the FTS5 index holds approved evidence only (kept in step by triggers).
CREATE TABLE IF NOT EXISTS evidence_search_v2 (
    key TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL,
    position INTEGER NOT NULL,
    document TEXT NOT NULL,
    case_id TEXT NOT NULL,
    status TEXT NOT NULL,
    title TEXT NOT NULL,
    body TEXT NOT NULL
);
-- indexes (created when this version is activated: see sql_store.py)
CREATE INDEX IF NOT EXISTS evidence_search_v2_case ON evidence_search_v2 (tenant_id, case_id);
CREATE VIRTUAL TABLE IF NOT EXISTS evidence_search_v2_fts USING fts5(
    title, body, content='evidence_search_v2', content_rowid='rowid', tokenize='porter unicode61'
);
-- Rows written before the triggers existed (a rebuilt version) are indexed once, here.
INSERT INTO evidence_search_v2_fts (rowid, title, body)
SELECT rowid, title, body FROM evidence_search_v2
WHERE status = 'approved' AND NOT EXISTS (
    SELECT 1 FROM sqlite_master WHERE type = 'trigger' AND name = 'evidence_search_v2_added'
);
CREATE TRIGGER IF NOT EXISTS evidence_search_v2_added AFTER INSERT ON evidence_search_v2
WHEN new.status = 'approved' BEGIN
    INSERT INTO evidence_search_v2_fts (rowid, title, body) VALUES (new.rowid, new.title, new.body);
END;
CREATE TRIGGER IF NOT EXISTS evidence_search_v2_removed AFTER DELETE ON evidence_search_v2
WHEN old.status = 'approved' BEGIN
    INSERT INTO evidence_search_v2_fts (evidence_search_v2_fts, rowid, title, body)
    VALUES ('delete', old.rowid, old.title, old.body);
END;
CREATE TRIGGER IF NOT EXISTS evidence_search_v2_changed AFTER UPDATE ON evidence_search_v2 BEGIN
    INSERT INTO evidence_search_v2_fts (evidence_search_v2_fts, rowid, title, body)
    SELECT 'delete', old.rowid, old.title, old.body WHERE old.status = 'approved';
    INSERT INTO evidence_search_v2_fts (rowid, title, body)
    SELECT new.rowid, new.title, new.body WHERE new.status = 'approved';
END;
