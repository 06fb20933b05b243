"""The validation layers (seed §16), each a small function that returns what the next layer
needs or raises `Refused` with the outcome and reason code the caller gets."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import ValidationError

from caseledger.domain.application.loading import IdempotencyRecord, Loaded
from caseledger.domain.application.ports import NO_STREAM
from caseledger.domain.application.routes import Route, StreamRule
from caseledger.domain.shared.actors import Actor, ActorType
from caseledger.domain.shared.commands import CommandBody
from caseledger.domain.shared.envelopes import CommandEnvelope
from caseledger.domain.shared.errors import MAX_PIECE, clip, describe_invalid
from caseledger.domain.shared.outcomes import CommandOutcome
from caseledger.domain.shared.policy_rules import PolicyRules
from caseledger.domain.shared.reasons import ReasonCode
from caseledger.domain.shared.streams import InvalidId


class Refused(Exception):
    """A layer refused the command; nothing was written."""

    def __init__(self, outcome: CommandOutcome, reason: ReasonCode, detail: str) -> None:
        super().__init__(f"{outcome.value}/{reason.value}: {detail}")
        self.outcome = outcome
        self.reason = reason
        self.detail = detail


def _rejected(reason: ReasonCode, detail: str) -> Refused:
    return Refused(CommandOutcome.REJECTED, reason, detail)


def _invalid(reason: ReasonCode, detail: str) -> Refused:
    return Refused(CommandOutcome.VALIDATION_ERROR, reason, detail)


def route_for(routes: Mapping[str, Route], envelope: CommandEnvelope) -> Route:
    """Schema: the command type has a route."""
    route = routes.get(envelope.command_type)
    if route is None:
        raise _invalid(
            ReasonCode.UNKNOWN_COMMAND, f"no command {clip(envelope.command_type, MAX_PIECE)!r}"
        )
    return route


def validate_payload(route: Route, envelope: CommandEnvelope) -> CommandBody:
    """Schema: the payload is the declared schema, in a version this code reads. A `tenant_id`
    in the payload is left to the tenant layer."""
    if (envelope.payload_schema, envelope.command_version) != (
        route.payload_schema,
        route.command_version,
    ):
        raise _invalid(
            ReasonCode.UNSUPPORTED_SCHEMA,
            f"{clip(envelope.payload_schema, MAX_PIECE)!r} (version "
            f"{clip(envelope.command_version, MAX_PIECE)}) is not {route.payload_schema!r}",
        )
    payload = {k: v for k, v in envelope.payload.items() if k != "tenant_id"}
    try:
        return route.body.model_validate(payload)
    except ValidationError as error:
        raise _invalid(ReasonCode.INVALID_PAYLOAD, describe_invalid(error.errors())) from error


def stream_of(route: Route, body: CommandBody, tenant_id: str) -> str:
    """Schema: the stream the command appends to, built from ids inside their grammar only (the
    payload's are checked by its schema; this refuses whatever slipped past)."""
    try:
        return route.stream(body, tenant_id)
    except InvalidId as error:
        raise _invalid(ReasonCode.INVALID_PAYLOAD, str(error)) from error


def identify(envelope: CommandEnvelope) -> Actor:
    """Identity: agents act within a run and hold no roles; only users hold roles."""
    actor_type = envelope.requested_by_actor_type
    if actor_type is ActorType.AGENT and not envelope.run_id:
        raise _rejected(ReasonCode.MISSING_RUN_ID, "an agent command needs its run id")
    if actor_type is not ActorType.USER and envelope.requested_by_roles:
        raise _rejected(ReasonCode.NOT_PERMITTED, f"a {actor_type.value} holds no roles")
    return Actor(
        type=actor_type,
        id=envelope.requested_by_actor_id,
        roles=envelope.requested_by_roles,
        run_id=envelope.run_id,
    )


def authorize(route: Route, actor: Actor) -> None:
    """Authorization: the hard rules of who may issue what (agents never approve, send,
    close or delete)."""
    if not route.may_be_issued_by(actor):
        raise _rejected(ReasonCode.NOT_PERMITTED, f"{actor.key} may not {route.command_type}")


def check_payload_tenant(envelope: CommandEnvelope) -> None:
    """Tenant: a payload naming a tenant names the envelope's."""
    named = envelope.payload.get("tenant_id")
    if named is not None and named != envelope.tenant_id:
        raise _rejected(ReasonCode.TENANT_MISMATCH, "the payload names another tenant")


def as_seen_by(loaded: Loaded[Any], tenant_id: str) -> Loaded[Any]:
    """Tenant: another tenant's aggregate is, to this tenant, one that does not exist. Every
    later layer then answers exactly as for an unknown id (no `tenant_mismatch`, no revision,
    no idempotency record leaks across tenants)."""
    owner = loaded.tenant_id
    if owner is None or owner == tenant_id:
        return loaded
    return Loaded(loaded.aggregate, loaded.stream, loaded.aggregate.initial_state(), NO_STREAM, {})


def check_idempotency(
    loaded: Loaded[Any], actor: Actor, envelope: CommandEnvelope, digest: str
) -> IdempotencyRecord | None:
    """Idempotency: the key (scoped to tenant and actor) already wrote this command -> its
    record; the key wrote a different command -> refused."""
    record = loaded.keys.get((actor.key, envelope.idempotency_key))
    if record is None:
        return None
    if record.command_digest != digest:
        raise _rejected(
            ReasonCode.IDEMPOTENCY_KEY_REUSED,
            f"key {clip(envelope.idempotency_key, MAX_PIECE)!r} was used for command "
            f"{clip(record.command_id, MAX_PIECE)}",
        )
    return record


def check_version(expected: int | None, revision: int) -> None:
    """Version: the caller's expected version is the stream's last revision."""
    if expected is not None and expected != revision:
        raise Refused(
            CommandOutcome.CONFLICT,
            ReasonCode.STALE_VERSION,
            f"expected version {expected}, the stream is at {revision}",
        )


def check_stream_rule(route: Route, loaded: Loaded[Any], taken: bool | None = None) -> None:
    """Lifecycle: creating commands need a new stream, the others an existing one. `taken`:
    the stream exists whoever owns it (ids are one namespace across tenants, so creating with
    an id another tenant holds is `already_exists`, as for one's own; default: `loaded`'s)."""
    if route.stream_rule is StreamRule.NEW and (loaded.exists if taken is None else taken):
        raise _rejected(ReasonCode.ALREADY_EXISTS, f"{loaded.stream} already exists")
    if route.stream_rule is StreamRule.EXISTING and not loaded.exists:
        raise _rejected(ReasonCode.NOT_FOUND, f"{loaded.stream} does not exist")


def policy_gate(route: Route, actor: Actor, policy: PolicyRules) -> None:
    """Policy: the tenant's policy may narrow what agents do (never widen: see policy_rules)."""
    if actor.is_agent and not policy.allows_agent(route.command_type):
        raise _rejected(
            ReasonCode.POLICY_FORBIDS_AGENT, f"policy does not let agents {route.command_type}"
        )
