"""Facts one aggregate may read about another at decision time (staleness accepted)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class CaseFacts:
    """What a notice draft may rely on about its case, as of `revision`."""

    case_id: str
    tenant_id: str
    status: str
    active: bool
    revision: int
