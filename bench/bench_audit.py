"""Audit benchmark: an audit of one case and of one correlation (each `--case-events` events,
200 by default) read through the audit index, with the store holding each of `--sizes` events.

    .venv/bin/python -m bench.bench_audit --sizes 10000,1000000 [--samples 200] [--data-dir DIR]

The audited case is written through the command service (open, review, evidence, one
correlation id); the rest of the store is catalogued case histories in ten tenants (the audited
one among them) appended raw, 20 events per case. The index is built by a runner of the audit
index alone; each size is measured once the index has caught up. Prints a Markdown table for
BENCHMARKS.md; targets: p50 <= 50 ms, p99 <= 200 ms, flat within 1.5x across sizes.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from bench.bench_rebuild import EVENTS_PER_CASE, case_events
from caseledger.adapters.audit.index import AuditIndex
from caseledger.adapters.audit.service import AuditService
from caseledger.adapters.bootstrap import App, bootstrap
from caseledger.adapters.settings import Settings
from caseledger.domain.application.ports import NO_STREAM
from caseledger.domain.shared.actors import Actor, ActorType, Role
from caseledger.domain.shared.envelopes import CommandEnvelope
from caseledger.projections.audit.trail import Trail
from caseledger.projections.rebuild import activate_unserved
from caseledger.projections.runner import ProjectionRunner, RunnerSettings
from caseledger.projections.views.audit_index import AuditIndexProjection

TENANT = "t0"
ANALYST = Actor(ActorType.USER, "ann", frozenset({Role.ANALYST}))
P50_TARGET, P99_TARGET, FLAT = 50.0, 200.0, 1.5
CATCH_UP = 3600.0
"""How long the index may take to catch up with a size (a million events take minutes)."""


def audited_case(app: App, events: int) -> tuple[str, str]:
    """A case of `events` events under one correlation id: (case id, correlation id)."""
    case_id, correlation = f"audited-{uuid.uuid4().hex[:8]}", f"corr-{uuid.uuid4().hex[:8]}"
    commands: list[tuple[str, dict[str, object]]] = [
        ("open_case", {"case_id": case_id, "allegation_summary": "offshore transfers"}),
        ("start_case_review", {"case_id": case_id}),
    ]
    commands += [
        (
            "submit_evidence",
            {"case_id": case_id, "evidence_id": f"e{i}", "title": f"E{i}", "text": "ledger"},
        )
        for i in range(events - 2)
    ]
    for n, (command_type, payload) in enumerate(commands):
        result = app.commands.handle(
            CommandEnvelope(
                command_id=f"{correlation}-{n}",
                command_type=command_type,
                tenant_id=TENANT,
                requested_by_actor_type=ANALYST.type,
                requested_by_actor_id=ANALYST.id,
                requested_by_roles=ANALYST.roles,
                correlation_id=correlation,
                idempotency_key=f"{correlation}-{n}",
                payload_schema=f"{command_type}.v1",
                payload=payload,
            )
        )
        assert result.status.value == "accepted", (command_type, result.reason)
    return case_id, correlation


def fill(app: App, written: int, target: int) -> int:
    """Append raw case histories (4 writers) from `written` events up to about `target`;
    the events the store then holds."""
    cases = max(0, target - written) // EVENTS_PER_CASE

    def write(worker: int) -> None:
        for n in range(worker, cases, 4):
            case_id = f"f{n}-{uuid.uuid4().hex[:6]}"
            tenant = f"t{n % 10}"
            app.store.append(f"case-{tenant}_{case_id}", case_events(case_id, tenant), NO_STREAM)

    with ThreadPoolExecutor(4) as pool:
        list(pool.map(write, range(4)))
    return written + cases * EVENTS_PER_CASE


def measure(audit: Callable[[], Trail], samples: int) -> tuple[float, float]:
    """p50 and p99 in ms."""
    audit()  # warm
    times = []
    for _ in range(samples):
        started = time.perf_counter()
        audit()
        times.append((time.perf_counter() - started) * 1000)
    times.sort()
    return statistics.median(times), times[min(len(times) - 1, int(len(times) * 0.99))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,1000000")
    parser.add_argument("--samples", type=int, default=200)
    parser.add_argument("--case-events", type=int, default=200)
    parser.add_argument("--data-dir", type=Path, default=None)
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    data_dir = args.data_dir or Path(tempfile.mkdtemp(prefix="bench-audit-"))
    with bootstrap(Settings(data_dir=data_dir), eventstore_port=0) as app:
        index = AuditIndexProjection()
        activate_unserved(app.views, [index])
        runner = ProjectionRunner(app.store, app.views, [index], RunnerSettings())
        runner.start()
        case_id, correlation = audited_case(app, args.case_events)
        written = args.case_events
        audit = AuditService(app.store, app.views)
        audits: dict[str, Callable[[], Trail]] = {
            "case": lambda: audit.case(case_id, TENANT),
            "correlation": lambda: audit.correlation(correlation, TENANT),
        }
        rows = []
        for size in sizes:
            written = fill(app, written, size)
            fresh = AuditIndex(app.views, app.store).settle(CATCH_UP)
            assert not fresh.behind, fresh.reason()
            for subject, run in audits.items():
                trail = run()
                assert not trail.incomplete, trail.incomplete
                p50, p99 = measure(run, args.samples)
                rows.append((subject, written, len(trail.events), p50, p99))
        runner.stop()
    print("| audit of | events in store | events audited | p50 ms | p99 ms | target |")
    print("| --- | --- | --- | --- | --- | --- |")
    for subject, size, shown, p50, p99 in rows:
        met = p50 <= P50_TARGET and p99 <= P99_TARGET
        print(
            f"| {subject} | {size:,} | {shown} | {p50:.1f} | {p99:.1f} | "
            f"{'met' if met else 'NOT met'} |"
        )
    for subject in ("case", "correlation"):
        p50s = [r[3] for r in rows if r[0] == subject]
        ratio = max(p50s) / min(p50s)
        verdict = "met" if ratio <= FLAT else "NOT met"
        print(f"flat ({subject}, p50 largest/smallest): {ratio:.2f}x {verdict} (<= {FLAT}x)")


if __name__ == "__main__":
    main()
