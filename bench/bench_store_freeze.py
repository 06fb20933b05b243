"""A frozen event store against the service (issue 16): how long callers wait, and what the
deadlines cost a healthy store.

    .venv/bin/python -m bench.bench_store_freeze [--freeze 20] [--deadline 5] [--clients 20]
        [--samples 1000]

freeze: `caseledger serve`'s parts (bootstrap with the runner, the HTTP API) on a store run as
its own process (durable data dir), `--clients` HTTP clients issuing `open_case` commands back
to back, `/healthz` polled every 0.1 s and `/readyz` every 0.5 s; the store is paused with
SIGSTOP for `--freeze` seconds, then resumed. Reported: the slowest command answer and the
slowest `/healthz` answer from the pause on and of `/readyz` asked and answered within it, how
the commands were answered (those overlapping its start or end may be accepted), the time from
SIGCONT to the next accepted command, and the timed-out keys retried (landed ones answer
duplicate_accepted).

overhead: sequential `open_case` commands through the command service on the same store, with
kurrentdbclient's plain client and with the deadlines' client (an interceptor and keep-alives
on every channel), alternating blocks of 100: the median of each.
"""

from __future__ import annotations

import argparse
import signal
import statistics
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from kurrentdbclient import KurrentDBClient

from bench.bench_eventstore import free_port, pct
from caseledger.adapters.background import ThreadBackground
from caseledger.adapters.bootstrap import bootstrap
from caseledger.adapters.command_stack import command_service
from caseledger.adapters.eventstore.kurrent import KurrentEventStore
from caseledger.adapters.http.app import create_app
from caseledger.adapters.http.server import HttpServer
from caseledger.adapters.settings import Settings
from caseledger.domain.application.service import CommandService
from caseledger.domain.shared.actors import ActorType, Role
from caseledger.domain.shared.envelopes import CommandEnvelope
from caseledger.domain.shared.outcomes import CommandOutcome
from tests.support.store_process import StoreProcess

TOKENS = """
[tokens."bench-analyst"]
tenant = "t1"
actor_type = "user"
actor_id = "alice"
roles = ["analyst"]
"""


@dataclass
class Seen:
    commands: list[tuple[float, float, int, str]] = field(default_factory=list)
    """(started, seconds, status, key) per command."""
    health: list[tuple[float, float, int]] = field(default_factory=list)
    ready: list[tuple[float, float, int]] = field(default_factory=list)


def _open(client: httpx.Client, key: str) -> tuple[int, str]:
    body = {
        "command_type": "open_case",
        "idempotency_key": key,
        "payload": {"case_id": key, "allegation_summary": "Unlicensed lending"},
    }
    response = client.post("/v1/commands", json=body)
    status = response.json().get("status", "") if response.status_code == 200 else ""
    return response.status_code, status


def _client(url: str) -> httpx.Client:
    headers = {"Authorization": "Bearer bench-analyst"}
    return httpx.Client(base_url=url, headers=headers, timeout=120.0)


def _commands(url: str, worker: int, until: threading.Event, seen: Seen) -> None:
    with _client(url) as client:
        n = 0
        while not until.is_set():
            n += 1
            key = f"case-bench-{worker}-{n}"
            started = time.monotonic()
            status, _ = _open(client, key)
            seen.commands.append((started, time.monotonic() - started, status, key))


def _poll(
    url: str, path: str, every: float, until: threading.Event, into: list[tuple[float, float, int]]
) -> None:
    with httpx.Client(base_url=url, timeout=120.0) as client:
        while not until.is_set():
            started = time.monotonic()
            status = client.get(path).status_code
            into.append((started, time.monotonic() - started, status))
            until.wait(every)


def freeze(seconds: float, deadline: float, clients: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "store").mkdir()
        store = StoreProcess(free_port(), root / "store", root / "store.log")
        store.start()
        tokens = root / "tokens.toml"
        tokens.write_text(TOKENS)
        settings = Settings(
            data_dir=root / "data",
            eventstore_url=store.url,
            eventstore_timeout=deadline,
            tokens_file=tokens,
            outbox="off",
        )
        app = bootstrap(settings).start()
        server = HttpServer.start(create_app(app))
        try:
            _run_freeze(server.url, store, seconds, clients, deadline)
        finally:
            store.process.send_signal(signal.SIGCONT)
            server.stop()
            app.close()
            store.kill()


def _run_freeze(
    url: str, store: StoreProcess, seconds: float, clients: int, deadline: float
) -> None:
    seen, stop_commands, stop_checks = Seen(), threading.Event(), threading.Event()
    checks = [
        threading.Thread(target=_poll, args=(url, "/healthz", 0.1, stop_checks, seen.health)),
        threading.Thread(target=_poll, args=(url, "/readyz", 0.5, stop_checks, seen.ready)),
    ]
    workers = [
        threading.Thread(target=_commands, args=(url, i, stop_commands, seen))
        for i in range(clients)
    ]
    for thread in [*checks, *workers]:
        thread.start()
    time.sleep(2.0)  # warm: commands flowing
    frozen_at = time.monotonic()
    store.process.send_signal(signal.SIGSTOP)
    time.sleep(seconds)
    store.process.send_signal(signal.SIGCONT)
    resumed_at = time.monotonic()
    time.sleep(2 * deadline + 2.0)  # recovery, with the clients still at it
    stop_commands.set()
    for thread in workers:
        thread.join()
    stop_checks.set()
    for thread in checks:
        thread.join()
    _report_freeze(seen, frozen_at, resumed_at, seconds, deadline, clients, url)


def _report_freeze(
    seen: Seen,
    frozen_at: float,
    resumed_at: float,
    seconds: float,
    deadline: float,
    clients: int,
    url: str,
) -> None:
    during = [c for c in seen.commands if c[0] + c[1] >= frozen_at and c[0] <= resumed_at]
    refused = [c for c in during if c[2] == 503]
    health = [h for h in seen.health if h[0] + h[1] >= frozen_at]
    ready = [r for r in seen.ready if frozen_at <= r[0] and r[0] + r[1] <= resumed_at]
    accepted_after = [c for c in seen.commands if c[0] >= resumed_at and c[2] == 200]
    first_ok = min((c[0] + c[1] for c in accepted_after), default=float("nan")) - resumed_at
    answers = [c[1] for c in during]
    print(f"freeze {seconds:g} s, CASELEDGER_EVENTSTORE_TIMEOUT={deadline:g}, {clients} clients")
    print("| what | n | p50 | p99 | slowest |")
    print("|---|---|---|---|---|")
    print(_row("command answers overlapping the freeze", answers))
    print(_row("/healthz from the freeze on", [h[1] for h in health]))
    print(_row("/readyz asked and answered within the freeze", [r[1] for r in ready]))
    statuses = sorted({c[2] for c in during})
    counts = ", ".join(f"{s}: {sum(c[2] == s for c in during)}" for s in statuses)
    print(f"commands overlapping the freeze by status: {counts}")
    print(
        f"/healthz not 200: {sum(h[2] != 200 for h in health)}; /readyz asked and answered "
        f"while frozen, 200: {sum(r[2] == 200 for r in ready)}"
    )
    print(f"first accepted command after SIGCONT: {first_ok:.2f} s")
    landed = _retry(url, [c[3] for c in refused])
    print(f"timed-out keys retried: {len(refused)}; duplicate_accepted (had landed): {landed}")


def _row(what: str, values: list[float]) -> str:
    if not values:
        return f"| {what} | 0 | - | - | - |"
    return (
        f"| {what} | {len(values)} | {pct(values, 0.5):.3f} s | {pct(values, 0.99):.3f} s "
        f"| {max(values):.3f} s |"
    )


def _retry(url: str, keys: list[str]) -> int:
    landed = 0
    with _client(url) as client:
        for key in keys:
            status, outcome = _open(client, key)
            if status != 200:
                raise RuntimeError(f"retry of {key} answered {status}")
            landed += outcome == CommandOutcome.DUPLICATE_ACCEPTED.value
    return landed


# ---- overhead ---------------------------------------------------------------------------------


def _envelope(case_id: str) -> CommandEnvelope:
    return CommandEnvelope(
        command_id=str(uuid.uuid4()),
        command_type="open_case",
        tenant_id="t1",
        requested_by_actor_type=ActorType.USER,
        requested_by_actor_id="alice",
        requested_by_roles=[Role.ANALYST],
        correlation_id="bench",
        idempotency_key=case_id,
        payload_schema="open_case.v1",
        payload={"case_id": case_id, "allegation_summary": "Unlicensed lending"},
    )


def overhead(samples: int, block: int = 100) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "store").mkdir()
        store = StoreProcess(free_port(), Path(tmp) / "store", Path(tmp) / "store.log")
        store.start()
        try:
            stores = {
                "plain client": KurrentEventStore(KurrentDBClient(uri=store.url)),
                "deadlines' client": KurrentEventStore.connect(store.url),
            }
            services = {
                name: command_service(events, background=ThreadBackground())
                for name, events in stores.items()
            }
            times: dict[str, list[float]] = {name: [] for name in services}
            n = 0
            while min(len(t) for t in times.values()) < samples:
                for name, service in services.items():
                    for _ in range(block):
                        n += 1
                        times[name].append(_timed(service, _envelope(f"c-{n}")))
            print(f"sequential open_case, {samples} each, alternating blocks of {block}")
            for name, values in times.items():
                print(
                    f"| {name} | p50 {statistics.median(values) * 1000:.3f} ms "
                    f"| p99 {pct(values, 0.99) * 1000:.3f} ms |"
                )
            for events in stores.values():
                events.close()
        finally:
            store.kill()


def _timed(service: CommandService, envelope: CommandEnvelope) -> float:
    started = time.perf_counter()
    result = service.handle(envelope)
    took = time.perf_counter() - started
    if result.status is not CommandOutcome.ACCEPTED:
        raise RuntimeError(f"not accepted: {result}")
    return took


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--freeze", type=float, default=20.0, help="seconds the store is paused")
    parser.add_argument("--deadline", type=float, default=5.0, help="CASELEDGER_EVENTSTORE_TIMEOUT")
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--samples", type=int, default=1000, help="commands of each (0: none)")
    args = parser.parse_args()
    freeze(args.freeze, args.deadline, args.clients)
    if args.samples:
        overhead(args.samples)


if __name__ == "__main__":
    main()
