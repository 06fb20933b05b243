"""Decoding recorded events for projections: unknown versions are refused, never mis-read."""

from __future__ import annotations

import pytest

from caseledger.projections.events import UndecodableEvent, decode
from tests.support.facts import Fact, FakeLog, opened


def test_an_event_of_an_unknown_schema_version_is_refused() -> None:
    log = FakeLog()
    log.append(Fact("case-t1_c1", "case.opened", {"case_id": "c1"}, schema_version=2))

    with pytest.raises(UndecodableEvent, match="schema version 2"):
        decode(log.events[0])


def test_a_decoded_event_names_its_source_ref_and_tenant() -> None:
    log = FakeLog()
    log.append(opened("c1", tenant="acme"))

    event = decode(log.events[0])
    assert event.ref == f"case-acme_c1@0#{log.events[0].id}"
    assert (event.tenant_id, event.category, event.position) == ("acme", "case", 100)
