# ruff: noqa: E501  (the table's rows are Markdown lines, kept whole)
"""The one table of reasons: every `reason_code` the HTTP API (commands, queries, audit) and MCP
over HTTP can answer, with the `outcome` that comes with it and its HTTP status. `TABLE` is
Markdown: `docs/catalogue.md` and the README hold it word for word (a test keeps them so), and
command answers take their status from it (`STATUS`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final


@dataclass(frozen=True)
class Reason:
    code: str
    outcome: str
    status: int
    meaning: str


TABLE: Final = """\
| reason_code | outcome | HTTP | when |
|---|---|---|---|
| `unauthenticated` | rejected | 401 | no bearer token, or one nobody issued (checked before the body is read) |
| `payload_too_large` | rejected | 413 | the body is over `CASELEDGER_HTTP_MAX_BODY` bytes (checked before it is parsed) |
| `invalid_payload` | validation_error | 422 | the body is not UTF-8 JSON or not an envelope, or the payload does not match its schema (an id outside the id grammar included) |
| `unknown_command` | validation_error | 422 | no route for the command type |
| `unsupported_schema` | validation_error | 422 | `payload_schema` / `command_version` not supported |
| `tenant_mismatch` | rejected | 403 | the body, payload or MCP arguments name another tenant than the token's (recorded in the token tenant's command log) |
| `not_permitted` | rejected | 403 | the actor may not issue this command, or the body or MCP arguments name another actor, roles or run than the token's (recorded) |
| `missing_run_id` | rejected | 403 | an agent command without a run id |
| `rate_limited` | rejected | 403 | the agent exceeded its commands per window |
| `run_budget_exhausted` | rejected | 403 | the run exceeded its command budget |
| `policy_forbids_agent` | rejected | 403 | the tenant's policy does not let agents issue this command |
| `invalid_transition` | rejected | 403 | not allowed from the current state |
| `case_not_active` | rejected | 403 | the related case is closed or dismissed |
| `open_proposals` | rejected | 403 | a case with undecided proposals cannot be closed or dismissed |
| `duplicate_id` | rejected | 403 | evidence/brief id already used in this case |
| `unknown_reference` | rejected | 403 | no such evidence, proposal, approval request or send request |
| `approval_request_not_open` | rejected | 403 | the approval request was decided, voided or renewed |
| `digest_mismatch` | rejected | 403 | the decision names another content/proposal digest than the one pending |
| `approver_role_required` | rejected | 403 | the policy requires another role to decide |
| `four_eyes` | rejected | 403 | an author or proposer cannot approve their own work |
| `confidence_too_low` | rejected | 403 | below the policy's minimum proposal confidence |
| `policy_version_exists` | rejected | 403 | publishing an already published version |
| `evidence_required` | rejected | 403 | fewer evidence refs than the policy requires |
| `evidence_not_approved` | rejected | 403 | a referenced evidence item is not approved |
| `not_found` | rejected | 404 | commands: the case or notice draft does not exist in this tenant (ids are a tenant's own) |
| `already_exists` | rejected | 409 | the stream must be new: this tenant holds the id (a conflict with what is stored) |
| `idempotency_key_reused` | rejected | 409 | same key, another command or payload: a conflict with what is stored |
| `unreadable_event` | rejected | 409 | a stream the command reads holds an event this code cannot read (unknown type or schema version, data or metadata that does not decode); the detail names stream and revision |
| `unknown_event_type` | rejected | 409 | finer cause of `unreadable_event`, named in its detail (not answered as the code) |
| `unknown_event_version` | rejected | 409 | finer cause of `unreadable_event`, named in its detail (not answered as the code) |
| `stale_version` | conflict | 409 | `expected_aggregate_version` is not the stream's revision |
| `concurrent_write` | conflict | 409 | another writer won, retries exhausted |
| `forbidden` | forbidden | 403 | queries and audit: the caller may not read this |
| `not_found` | not_found | 404 | queries and audit: nothing for this tenant (another tenant's looks the same) |
| `validation_error` | validation_error | 422 | queries: the query or its payload is invalid |
| `unavailable` | unavailable | 503 | queries: the view is not built yet, or its read store does not answer (retry) |
| `event_store_unavailable` | unavailable | 503 | the event store cannot be reached or refuses writes: retry with the same idempotency key (`Retry-After: 1`) |
| `not_ready` | unavailable | 503 | `GET /readyz`: the store does not answer or the views lag |
| `projections_stalled` | unavailable | 503 | `GET /readyz`: this process's projection runner is stalled, its read store failing, or its child process failing to start again and again (the reason in `detail`); it retries and resumes where it stopped, parking nothing |
| `no_such_route` | rejected | 404 | no such path |
| `method_not_allowed` | rejected | 405 | the path does not take this method (`Allow` lists those it does) |
| `internal_error` | error | 500 | a bug, never expected: the body names only the error's type |
"""


def _rows(table: str) -> tuple[Reason, ...]:
    rows = []
    for line in table.splitlines()[2:]:
        code, outcome, status, meaning = (cell.strip() for cell in line.strip("|").split(" | "))
        rows.append(Reason(code.strip("`"), outcome, int(status), meaning))
    return tuple(rows)


REASONS: Final = _rows(TABLE)

STATUS: Final = {reason.code: reason.status for reason in REASONS if reason.outcome != "not_found"}
"""A command reason code's HTTP status."""
