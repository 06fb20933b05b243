"""Command outcomes, exactly as the seed's §17 names them."""

from __future__ import annotations

from enum import StrEnum


class CommandOutcome(StrEnum):
    ACCEPTED = "accepted"
    REJECTED = "rejected"
    REQUIRES_APPROVAL = "requires_approval"
    DUPLICATE_ACCEPTED = "duplicate_accepted"
    CONFLICT = "conflict"
    VALIDATION_ERROR = "validation_error"
