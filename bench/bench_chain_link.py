"""What a hash-chain link costs a command, in process: the events of one `create_analyst_brief`
(one event, data and metadata as the service writes them) encoded without and with sorted keys,
then sealed (`chains.sealed`: one sha256 over the bytes written, the link added to the
metadata); and `audit verify`'s cost per event (`chains.recompute`: parse, re-serialise, hash).

    .venv/bin/python -m bench.bench_chain_link [--samples 200000]
"""

from __future__ import annotations

import argparse
import timeit
import uuid
from collections.abc import Callable
from datetime import UTC, datetime

import orjson

from caseledger.domain.application.chains import GENESIS, recompute, sealed
from caseledger.domain.application.codec import new_event, recorded_as
from caseledger.domain.case.events import AnalystBriefCreated

METADATA = {
    "$correlationId": "corr-1",
    "$causationId": "cmd-1",
    "tenantId": "t1",
    "aggregateType": "case",
    "aggregateId": "c1",
    "actorType": "user",
    "actorId": "alice",
    "commandId": "cmd-1",
    "commandType": "create_analyst_brief",
    "idempotencyKey": "cmd-1",
    "commandDigest": "0" * 64,
    "outcome": "accepted",
    "policyVersion": "default",
    "schemaVersion": "1",
    "payloadSchema": "case.brief_created.v1",
    "occurredAt": datetime.now(UTC).isoformat(),
}


def per_call_us(work: Callable[[], object], samples: int) -> float:
    return min(timeit.repeat(work, number=samples, repeat=5)) / samples * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--samples", type=int, default=200_000)
    samples = parser.parse_args().samples
    brief = AnalystBriefCreated(
        case_id="c1",
        brief_id="b1",
        title="Finding",
        body="x" * 200,
        evidence_refs=["e1"],
        author_type="user",
        author_id="alice",
        run_id=None,
    )
    event_id = uuid.uuid4()
    event = new_event(brief, event_id, METADATA)
    (linked,), _ = sealed([event], GENESIS)
    stored = recorded_as(linked, "case-t1_c1", 0, 0)

    def plain() -> object:
        return (orjson.dumps(brief.payload()), orjson.dumps(METADATA))

    def encoded() -> object:
        return new_event(brief, event_id, METADATA)

    rows = [
        ("encode data + metadata, keys unsorted (before)", per_call_us(plain, samples)),
        ("encode data + metadata, sorted (`new_event`, after)", per_call_us(encoded, samples)),
        (
            "seal one event (`chains.sealed`)",
            per_call_us(lambda: sealed([event], "a" * 64), samples),
        ),
        (
            "verify one event (`chains.recompute`)",
            per_call_us(lambda: recompute(stored, ""), samples),
        ),
    ]
    print(f"event: data {len(event.data)} B, metadata {len(linked.metadata)} B with its link")
    for name, us in rows:
        print(f"| {name} | {us:.2f} us |")


if __name__ == "__main__":
    main()
