"""A draft policy's rules, validated exactly as `publish_policy` validates its `rules` (the same
model), and the start of a what-if's window."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

from pydantic import ValidationError

from caseledger.domain.shared.errors import describe_invalid
from caseledger.domain.shared.policy_rules import PolicyRules


class InvalidDraft(ValueError):
    """The draft is not a policy `publish_policy` would take; the message names the fields."""


def draft_rules(rules: object) -> PolicyRules:
    if not isinstance(rules, dict):
        raise InvalidDraft("a policy's rules are an object (the `rules` publish_policy takes)")
    try:
        return PolicyRules.model_validate(rules)
    except ValidationError as error:
        raise InvalidDraft(describe_invalid(error.errors())) from None


def since_of(text: str) -> datetime:
    """An ISO-8601 date (midnight UTC) or date-time (UTC unless it names an offset)."""
    text = text.strip()
    try:
        if len(text) == len("2026-12-07"):
            return datetime.combine(date.fromisoformat(text), time(), tzinfo=UTC)
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise InvalidDraft(
            "since: not an ISO-8601 date or date-time (e.g. 2026-12-01 or 2026-12-01T08:00:00Z)"
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
