"""View rows and row changes for read-store tests: case summaries and evidence."""

from __future__ import annotations

from caseledger.projections.rows import Put, Remove, Row, ViewChanges


def summary_row(key: str, tenant: str = "t1", status: str = "opened", position: int = 100) -> Row:
    columns = {"status": status, "risk_level": None, "assigned_team": "fraud"}
    return Row(key, tenant, columns, {"case_id": key, "status": status}, position)


def evidence_row(key: str, text: str, status: str, tenant: str = "t1") -> Row:
    columns = {"case_id": key.split("/")[0], "status": status, "title": "Ledger", "body": text}
    return Row(key, tenant, columns, {"text": text, "status": status}, 100)


def changes(*puts: Row, removals: tuple[str, ...] = ()) -> ViewChanges:
    view = ViewChanges()
    for row in puts:
        view.record(Put(row))
    for key in removals:
        view.record(Remove(key))
    return view
