"""Rules both aggregates apply: approver roles, four eyes, digest binding."""

from __future__ import annotations

from collections.abc import Collection

from caseledger.domain.shared.actors import Actor, Role
from caseledger.domain.shared.errors import Rejected
from caseledger.domain.shared.reasons import ReasonCode


def require_approver(actor: Actor, roles: frozenset[Role], what: str) -> None:
    """Only a user holding one of the policy's approver `roles` may decide `what`."""
    if not actor.has_any_role(roles):
        wanted = ", ".join(sorted(role.value for role in roles))
        raise Rejected(ReasonCode.APPROVER_ROLE_REQUIRED, f"deciding {what} needs role: {wanted}")


def require_four_eyes(actor: Actor, authors: Collection[str], what: str) -> None:
    """Nobody decides on their own work: `authors` are actor keys (`user:alice`)."""
    if actor.key in authors:
        raise Rejected(ReasonCode.FOUR_EYES, f"{actor.key} authored {what} and cannot decide it")


def require_digest(given: str, pending: str, what: str) -> None:
    """A decision binds to the exact digest pending; anything else was not what was reviewed."""
    if given != pending:
        raise Rejected(
            ReasonCode.DIGEST_MISMATCH, f"{what}: decision names digest {given}, pending {pending}"
        )
