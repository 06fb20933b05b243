"""Reason codes: why a command was not accepted (docs/catalogue.md lists layer and meaning)."""

from __future__ import annotations

from enum import StrEnum


class ReasonCode(StrEnum):
    UNKNOWN_COMMAND = "unknown_command"
    UNSUPPORTED_SCHEMA = "unsupported_schema"
    INVALID_PAYLOAD = "invalid_payload"
    NOT_PERMITTED = "not_permitted"
    MISSING_RUN_ID = "missing_run_id"
    TENANT_MISMATCH = "tenant_mismatch"
    IDEMPOTENCY_KEY_REUSED = "idempotency_key_reused"
    RATE_LIMITED = "rate_limited"
    RUN_BUDGET_EXHAUSTED = "run_budget_exhausted"
    STALE_VERSION = "stale_version"
    CONCURRENT_WRITE = "concurrent_write"
    ALREADY_EXISTS = "already_exists"
    NOT_FOUND = "not_found"
    POLICY_FORBIDS_AGENT = "policy_forbids_agent"
    INVALID_TRANSITION = "invalid_transition"
    CASE_NOT_ACTIVE = "case_not_active"
    OPEN_PROPOSALS = "open_proposals"
    DUPLICATE_ID = "duplicate_id"
    UNKNOWN_REFERENCE = "unknown_reference"
    APPROVAL_REQUEST_NOT_OPEN = "approval_request_not_open"
    DIGEST_MISMATCH = "digest_mismatch"
    APPROVER_ROLE_REQUIRED = "approver_role_required"
    FOUR_EYES = "four_eyes"
    CONFIDENCE_TOO_LOW = "confidence_too_low"
    POLICY_VERSION_EXISTS = "policy_version_exists"
    EVIDENCE_REQUIRED = "evidence_required"
    EVIDENCE_NOT_APPROVED = "evidence_not_approved"
    UNKNOWN_EVENT_VERSION = "unknown_event_version"
    UNKNOWN_EVENT_TYPE = "unknown_event_type"
