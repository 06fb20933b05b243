"""The public contracts: a small schema per published type, never the internal event.

An integration event says *that* something happened and names it by ids and digests; it never
carries evidence text, notice bodies, recipients, rationales or free-text comments (seed §23:
no sensitive data in broad integration events). A consumer that needs more asks the service.
The message id is the committed event's id, so the broker and every inbox deduplicate by it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

import orjson
from pydantic import BaseModel, ConfigDict

from caseledger.domain.application.codec import StoredEvent

SOURCE: Final = "caseledger"


class _Contract(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class CaseOpenedV1(_Contract):
    case_id: str
    assigned_team: str | None


class CaseRiskLevelChangedV1(_Contract):
    case_id: str
    from_risk_level: str | None
    to_risk_level: str
    policy_version: str


class CaseEscalatedV1(_Contract):
    case_id: str
    from_status: str
    to_status: str
    policy_version: str


class CaseClosedV1(_Contract):
    case_id: str


class CaseDismissedV1(_Contract):
    case_id: str


class NoticeApprovedV1(_Contract):
    draft_id: str
    case_id: str
    approval_id: str
    digest: str
    content_version: int


class NoticeSendRequestedV1(_Contract):
    """Send the approved content `digest` of `draft_id`; the worker reads the content itself."""

    draft_id: str
    case_id: str
    send_request_id: str
    approval_id: str
    digest: str


class NoticeSentV1(_Contract):
    draft_id: str
    send_request_id: str
    digest: str
    message_id: str


@dataclass(frozen=True)
class Contract:
    """How one internal event type is published: the public type and its schema."""

    internal_type: str
    public_type: str
    version: int
    schema: type[_Contract]

    @property
    def name(self) -> str:
        """e.g. `caseledger.notice.send_requested.v1`."""
        return f"{self.public_type}.v{self.version}"

    def data(self, payload: Mapping[str, Any]) -> dict[str, Any]:
        """Only the contract's fields, validated: whatever else the payload holds stays inside."""
        fields = {k: payload.get(k) for k in self.schema.model_fields}
        return self.schema.model_validate(fields).model_dump(mode="json")


def _contract(internal: str, public: str, schema: type[_Contract]) -> Contract:
    return Contract(internal, f"{SOURCE}.{public}", 1, schema)


CONTRACTS: Final[Mapping[str, Contract]] = {
    c.internal_type: c
    for c in (
        _contract("case.opened", "case.opened", CaseOpenedV1),
        _contract("case.risk_level_changed", "case.risk_level_changed", CaseRiskLevelChangedV1),
        _contract("case.escalated", "case.escalated", CaseEscalatedV1),
        _contract("case.closed", "case.closed", CaseClosedV1),
        _contract("case.dismissed", "case.dismissed", CaseDismissedV1),
        _contract("notice_draft.approved", "notice.approved", NoticeApprovedV1),
        _contract("notice_draft.send_requested", "notice.send_requested", NoticeSendRequestedV1),
        _contract("notice_draft.sent", "notice.sent", NoticeSentV1),
    )
}
"""Internal event type -> its public contract. Events not listed are not published."""

SEND_REQUESTED: Final = CONTRACTS["notice_draft.send_requested"]


class IntegrationEvent(_Contract):
    """The envelope every published message has (JSON body of the broker message)."""

    id: str
    """The committed event's id: the broker's `Nats-Msg-Id` and every inbox's key."""
    type: str
    version: int
    schema_name: str
    tenant_id: str
    occurred_at: datetime
    correlation_id: str
    causation_id: str | None
    """The command that caused the event."""
    source_stream: str
    source_revision: int
    source_position: int
    data: dict[str, Any]

    def body(self) -> bytes:
        return orjson.dumps(self.model_dump(mode="json"))

    @classmethod
    def parse(cls, body: bytes) -> IntegrationEvent:
        return cls.model_validate(orjson.loads(body))


def publishable(event_type: str) -> bool:
    return event_type in CONTRACTS


def integration_event(stored: StoredEvent) -> IntegrationEvent:
    """The public form of a committed event whose type has a contract (KeyError otherwise)."""
    contract = CONTRACTS[stored.recorded.type]
    meta, rec = stored.metadata, stored.recorded
    return IntegrationEvent(
        id=str(rec.id),
        type=contract.public_type,
        version=contract.version,
        schema_name=contract.name,
        tenant_id=str(meta.get("tenantId", "")),
        occurred_at=meta["occurredAt"],
        correlation_id=str(meta.get("$correlationId", "")),
        causation_id=meta.get("$causationId"),
        source_stream=rec.stream,
        source_revision=rec.revision,
        source_position=rec.commit_position,
        data=contract.data(stored.event.payload()),
    )


SubjectOf = Callable[[IntegrationEvent], str]


def subject_for(prefix: str, contract_name: str) -> str:
    """`caseledger.notice.send_requested.v1` under `prefix` (default `caseledger`)."""
    return f"{prefix}.{contract_name.removeprefix(SOURCE + '.')}"
