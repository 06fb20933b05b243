"""The composition root: the one place that names concrete classes.

    app = bootstrap(Settings())        # tests: bootstrap(settings, mem_db=True, clock=...)
    app.start()                        # the projection runner, in a background thread
    app.start_outbound()               # the outbox relay and notification worker, as configured
    result = app.commands.handle(envelope)          # CommandEnvelope -> CommandResult
    answer = app.queries.handle(query)              # QueryEnvelope -> QueryResult
    app.close()                        # telemetry, runner, client, read store, embedded store

    with bootstrap_session(settings) as session:    # a short-lived command, a worker process
        replay(session.store, ...)                  # the event store alone (+ session.commands)

`bootstrap(settings, **overrides) -> App` builds, from `Settings`, each part unless the caller
passes it (as Cosmic Python's bootstrap does: tests give a store, a clock, ids):
- the event store (`store=`): the embedded KurrentDB-compatible server on `data_dir/eventstore`
  unless `eventstore_url` names a KurrentDB; reached through `KurrentEventStore`, except
  where this process hosts the embedded store and `embedded_path` is `inprocess` (the
  default): then through `InProcessEventStore` on its storage and writer, while the gRPC
  endpoint serves other processes; refused (BootstrapError) when it holds streams in another
  naming format, marked when new (`domain.application.storeformat`);
- the read store (`views=`): SQLite in the data dir unless `readstore_url` is
  `postgresql://...` (the read side's `open_projection_store`);
- the projection runner over all current projections (`.runner`; not started until `start()`):
  a view nobody serves yet is served by its current version at once, and once the runner has
  caught up its versions become the served ones (blue/green, `projections.rebuild`). It runs
  in a thread of this process, or, where this process hosts the embedded store on disk and
  `runner_in` says child (under `auto`: when the caller passes `child_runner=True`, as
  `caseledger serve` does), in a child process (`adapters.runner_process`) that reads the
  store's file and reports its progress back;
- the command service (`.commands`, `clock=`, `ids=`): the stack `adapters.command_stack`
  composes, writing its snapshots on a thread of their own (`.background`,
  `adapters.background`), and the query service (`.queries`), whose
  read-your-writes wait reads the views' checkpoints and is woken by this process's runner's
  commits (when another process's runner keeps the views, by its polls);
- the token registry (`tokens=`): `tokens_file` if set, else `data_dir/tokens.toml` if it
  exists (what `caseledger serve` writes), else empty (every token refused);
- with `observed_as` (entry points), the process's telemetry as CASELEDGER_OTEL says
  (`.telemetry`): the command stack's outermost decorator is then `TracedCommands`,
  `.queries` is `TracedQueries` around the query service, and the runner's lag is observed
  unless `observe_projections=False`;
- on `start_outbound()`, the outbox relay and the notification worker (`.outbound`, see
  `caseledger.adapters.outbound`), stopped by `close()` before the runner and the stores.

The App is a context manager; `close()` is idempotent. Entry points see the App through its
ports (`EventStoreConnection`, `ReadStore`, `CommandHandler`, `QueryHandler`, `RefusalLog`),
never the concrete classes, and reach the embedded server only through this module.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final, Protocol, cast

from caseledger.adapters.background import ThreadBackground
from caseledger.adapters.command_stack import command_service
from caseledger.adapters.eventstore.embedded.database import DataDirError
from caseledger.adapters.eventstore.embedded.server import (
    EmbeddedServer,
    ServerStartError,
    running_endpoint,
)
from caseledger.adapters.eventstore.inprocess import InProcessEventStore
from caseledger.adapters.eventstore.kurrent import KurrentEventStore
from caseledger.adapters.eventstore.quiet_head import HeadUnlessSilent
from caseledger.adapters.lease import RUNNER_LEASE, LeasedWork, LeaseStore, lease_times
from caseledger.adapters.observability.setup import Telemetry, instrument, telemetry_from
from caseledger.adapters.outbound import Outbound, start_outbound
from caseledger.adapters.readstore.factory import open_projection_store
from caseledger.adapters.readstore.runner_report import write_report
from caseledger.adapters.refusals import RefusalLog
from caseledger.adapters.runner_process.supervisor import RESTARTING, RunnerProcess
from caseledger.adapters.runner_process.wire import ChildConfig
from caseledger.adapters.settings import Settings
from caseledger.adapters.tokens import TokenRegistry
from caseledger.domain.application.ports import CommandHandler, EventStore, QueryHandler
from caseledger.domain.application.storeformat import StoreFormatError, check_store_format
from caseledger.domain.shared.clock import Clock
from caseledger.domain.shared.ids import IdGenerator
from caseledger.projections.catalogue import all_projections
from caseledger.projections.ports import EventFeed, ProjectionStore, ViewReader
from caseledger.projections.projection import Projection
from caseledger.projections.queries.freshness import PollingWaiter
from caseledger.projections.queries.service import QueryService
from caseledger.projections.rebuild import activate_unserved, switch_when_built
from caseledger.projections.runner import ProjectionRunner, RunnerSettings, RunnerStatus

TOKENS_FILE: Final = "tokens.toml"
PROJECTIONS_STALLED: Final = "projections stalled: "
"""How `App.ready()`'s detail begins while this process's runner is stalled (its read store
fails): `/readyz` answers it with the reason code `projections_stalled`."""


class EventStoreConnection(EventStore, EventFeed, Protocol):
    """The event store port (and the read side's feed) over one connection, which whoever
    opened it closes: `KurrentEventStore` over gRPC (any store), or `InProcessEventStore` on
    the embedded store this process hosts."""

    def close(self) -> None: ...


class ReadStore(ProjectionStore, ViewReader, Protocol):
    """What the read-model stores (SQLite, PostgreSQL) offer: views, checkpoints, close."""

    def close(self) -> None: ...


class BootstrapError(Exception):
    """A setting points at something unusable: the message says which and why."""


class StoreFormatRefused(BootstrapError):
    """The event store holds streams in another naming format: the message names the fix."""


class EventStoreStartError(BootstrapError):
    """The embedded event store could not start (its data dir is unusable or held by another
    process, its port is taken, its TLS settings are incomplete): the message says which."""


class NoEventStore(BootstrapError):
    """A session found no event store: none configured and none in the data dir."""


@dataclass
class App:
    """caseledger, wired. `eventstore_url` is where the event store answers (embedded or not)."""

    settings: Settings
    store: EventStoreConnection
    views: ReadStore
    runner: ProjectionRunner | RunnerProcess
    """The projection runner: in a thread, or in a child process (`runner_in`)."""
    commands: CommandHandler
    queries: QueryHandler
    refusals: RefusalLog
    """Where a request refused before it became a command is recorded (the command service)."""
    tokens: TokenRegistry
    eventstore_url: str
    embedded: EmbeddedServer | None = None
    outbound: Outbound | None = None
    background: ThreadBackground | None = None
    """Where the command service writes its snapshots, off the commands' path."""
    runner_lease: LeasedWork | None = None
    """The runner's lease: the runner runs only while this process holds it (else standby)."""
    telemetry: Telemetry | None = None
    """The process's telemetry (with `observed_as`, when CASELEDGER_OTEL is on)."""
    _started: bool = field(default=False, repr=False)
    _runs_runner: bool = field(default=False, repr=False)
    _closed: bool = field(default=False, repr=False)

    def start(self, runner: bool = True) -> App:
        """Start serving (once): with the projection runner (in a background thread or a child
        process, see `runner`), or, with `runner=False`, reading the views another process's
        runner keeps."""
        if not self._started:
            self._started, self._runs_runner = True, runner
            if runner:  # once this process holds the runner's lease (one per read store)
                self.runner_lease = LeasedWork(
                    lease_store(self.views),
                    RUNNER_LEASE,
                    self.runner.start,
                    self.runner.stop,
                    lease_times(self.settings),
                ).begin()
        return self

    def start_outbound(self, commands: CommandHandler | None = None) -> Outbound:
        """Start the outbox relay and the notification worker as the settings say (once);
        the worker commits `NoticeSent` through `commands` (default: `.commands`). Raises
        OutboundError when CASELEDGER_OUTBOX=on and NATS does not answer."""
        if self.outbound is None:
            self.outbound = start_outbound(
                self.store, commands or self.commands, self.settings, lease_store(self.views)
            )
        return self.outbound

    @property
    def runner_in_child(self) -> bool:
        """The projection runner runs in a child process of this one (`runner_in`)."""
        return isinstance(self.runner, RunnerProcess)

    def wait_for_views(self, position: int, timeout: float = 10.0) -> bool:
        """True once every view reflects the `$all` position (read-your-writes)."""
        return self.runner.wait_until(position, timeout)

    def ready(self) -> tuple[bool, str]:
        """Ready to serve: the event store answers and the runner has caught up once (without
        a runner here: the read store answers; queries say how fresh each view is). A runner
        child that is being restarted is not ready (`projection runner restarting: ...`) until
        the restarted child has caught up; one that keeps failing to start is stalled."""
        if not self._started:
            return False, "not started"
        try:
            self.store.head_position()
        except Exception as error:
            return False, f"event store unreachable: {type(error).__name__}"
        if not self._runs_runner or (self.runner_lease and not self.runner_lease.holding):
            try:
                self.views.states()
            except Exception as error:
                return False, f"read store unreachable: {type(error).__name__}"
            return True, "ready"
        status = self.runner.status()
        if status.stalled:
            return False, f"{PROJECTIONS_STALLED}{status.stalled_reason}"
        if status.state == RESTARTING:
            return False, f"projection runner restarting: {status.last_error}"
        if not status.caught_up:
            return False, f"projections catching up (runner {status.state})"
        return True, "ready"

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        if self.telemetry is not None:
            self.telemetry.shutdown()  # its last export may still read the runner's lag
        if self.outbound is not None:
            self.outbound.stop()
        if self.runner_lease is not None:
            self.runner_lease.close()  # stops the runner if it holds the lease, then releases it
        if self.background is not None:
            self.background.close()  # the snapshots still waiting, then the thread
        self.store.close()
        self.views.close()
        if self.embedded is not None:
            self.embedded.stop(grace=5.0)

    def __enter__(self) -> App:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def bootstrap(
    settings: Settings | None = None,
    *,
    store: EventStoreConnection | None = None,
    views: ReadStore | None = None,
    clock: Clock | None = None,
    ids: IdGenerator | None = None,
    runner_settings: RunnerSettings | None = None,
    tokens: TokenRegistry | None = None,
    observed_as: str | None = None,
    observe_projections: bool = True,
    mem_db: bool = False,
    eventstore_port: int | None = None,
    child_runner: bool = False,
) -> App:
    """Wire caseledger from `settings` (default: the environment); every other keyword
    replaces the part it names (a `store` or `views` given is closed by `App.close()` too, or
    when bootstrap fails).
    `mem_db` keeps the embedded store's events in memory (tests); `eventstore_port` overrides
    the embedded store's port (0 = any free port); `child_runner` runs the projection runner in
    a child process under `runner_in=auto` (see the module docstring; `runner_settings` are
    for a runner in a thread). Raises BootstrapError."""
    settings = settings or Settings()
    registry = tokens if tokens is not None else token_registry(settings)
    embedded, url = (
        _event_store(settings, mem_db, eventstore_port)
        if store is None
        else (None, settings.eventstore_url or "")
    )
    events: EventStoreConnection | None = None
    read_side: ReadStore | None = None
    try:
        events = store or _event_store_adapter(settings, embedded, url)
        _check_store_format(events)
        read_side = views or read_store(settings)
        projections = all_projections()
        runner: ProjectionRunner | RunnerProcess
        hosted = None if embedded is None else embedded.store.database.path
        if hosted is not None and _in_child(settings, child_runner, views):
            if runner_settings is not None:
                raise BootstrapError("runner_settings are for a runner in a thread")
            for projection in projections:
                read_side.prepare(projection)
            assert embedded is not None
            runner = RunnerProcess(embedded.store.signal, _child_config(settings, hosted))
        else:
            runner = view_keeper(events, read_side, projections, settings.data_dir, runner_settings)
        activate_unserved(read_side, projections)
        telemetry = None if observed_as is None else telemetry_from(settings, observed_as)
    except BaseException:
        _close_parts(events, read_side, embedded)
        raise
    background = ThreadBackground("caseledger-snapshots")
    commands = command_service(
        events, clock=clock, ids=ids, background=background, telemetry=telemetry
    )
    app = App(
        settings=settings,
        store=events,
        views=read_side,
        runner=runner,
        commands=commands,
        queries=QueryService(
            read_side,
            head=HeadUnlessSilent(events, settings.eventstore_timeout),
            waiter=PollingWaiter(read_side, sleep=runner.wait_for_progress),
        ),
        refusals=commands,
        tokens=registry,
        eventstore_url=url,
        embedded=embedded,
        background=background,
        telemetry=telemetry,
    )
    app.queries = instrument(app, telemetry, observe_projections=observe_projections)
    return app


@dataclass(frozen=True)
class Session:
    """The event store alone, for a short-lived command or a worker process that does not
    serve the read side: `store`, and the command service on it (`commands`)."""

    store: EventStoreConnection
    commands: CommandHandler


@contextmanager
def bootstrap_session(settings: Settings, *, clock: Clock | None = None) -> Iterator[Session]:
    """The configured event store for the duration of a command: CASELEDGER_EVENTSTORE_URL if
    set; else the data dir's embedded store, through the running `caseledger serve` that holds
    it, or started for the session on any free local port (and stopped after it). A store the
    session started itself is read in process (its storage, no gRPC) unless
    CASELEDGER_EMBEDDED_PATH=grpc; every other one over gRPC. A store it finds in another
    naming format is refused (StoreFormatRefused), and never marked; no store at all raises
    NoEventStore, one that cannot start EventStoreStartError, one that does not answer
    EventStoreUnavailable (also while the session runs)."""
    server: EmbeddedServer | None = None
    url = settings.eventstore_url or None
    if url is None:
        server, url = _data_dir_store(settings)
    try:
        store: EventStoreConnection
        if server is not None and settings.embedded_path == "inprocess":
            store = InProcessEventStore(server.store, settings.eventstore_timeout)
        else:
            store = KurrentEventStore.connect(url, settings.eventstore_timeout)
        try:
            _check_store_format(store, mark=False)
            yield Session(store, command_service(store, clock=clock))
        finally:
            store.close()
    finally:
        if server is not None:
            server.stop(grace=1.0)


def embedded_store_served(data_dir: Path) -> str | None:
    """The gRPC URL of the running process that holds `data_dir`'s embedded store, or None."""
    return running_endpoint(data_dir / "eventstore")


@contextmanager
def embedded_store(data_dir: Path, *, grace: float = 1.0) -> Iterator[EventStoreConnection]:
    """`data_dir`'s embedded store for this process alone: started on any free local port,
    reached over gRPC, stopped (`grace` seconds for calls in flight) after; its format is
    neither checked nor marked (`caseledger migrate` reads old stores and writes new ones).
    Raises EventStoreStartError."""
    server = _start_embedded(data_dir / "eventstore", "127.0.0.1", 0)
    try:
        store = KurrentEventStore.connect(server.url)
        try:
            yield store
        finally:
            store.close()
    finally:
        server.stop(grace=grace)


def _close_parts(
    events: EventStoreConnection | None, views: ReadStore | None, embedded: EmbeddedServer | None
) -> None:
    """What a failed `bootstrap` holds (given or opened): the event store connection, the
    read store, the embedded server it started."""
    if events is not None:
        events.close()
    if views is not None:
        views.close()
    if embedded is not None:
        embedded.stop(grace=1.0)


def view_keeper(
    events: EventFeed,
    views: ProjectionStore,
    projections: list[Projection],
    data_dir: Path,
    runner_settings: RunnerSettings | None = None,
    *,
    then: Callable[[], None] = lambda: None,
) -> ProjectionRunner:
    """The projection runner that keeps the served views, in a thread or in the runner child:
    once caught up, the versions it built are switched in (blue/green,
    `projections.rebuild.switch_when_built`); each change of its state is written to
    `data_dir`'s runner report (`projections status`). `then` is called after either."""

    def caught_up() -> None:
        switch_when_built(views, projections)
        then()

    def state(status: RunnerStatus) -> None:
        write_report(data_dir, status)
        then()

    return ProjectionRunner(
        events, views, projections, runner_settings, on_caught_up=caught_up, on_state=state
    )


def _in_child(settings: Settings, by_default: bool, views: object) -> bool:
    """The runner of a process hosting the store on disk runs in a child process: `runner_in`
    says so (or `auto` and `by_default`), and the child can open the read store this process
    uses (the configured one, not one the caller passed)."""
    wanted = settings.runner_in == "child" or (settings.runner_in == "auto" and by_default)
    return wanted and views is None


def _child_config(settings: Settings, eventstore: Path) -> ChildConfig:
    return ChildConfig(
        eventstore_dir=str(eventstore.resolve()),
        data_dir=str(settings.data_dir.resolve()),
        readstore_url=settings.readstore_url,
        eventstore_timeout=settings.eventstore_timeout,
    )


def lease_store(views: ReadStore) -> LeaseStore:
    """The read store, which keeps the leases (both stores are SqlProjectionStores)."""
    return cast(LeaseStore, views)


def _event_store_adapter(
    settings: Settings, embedded: EmbeddedServer | None, url: str
) -> EventStoreConnection:
    """In process on the store this process hosts (unless `embedded_path` is grpc), else the
    gRPC client on `url`."""
    if embedded is not None and settings.embedded_path == "inprocess":
        return InProcessEventStore(embedded.store, settings.eventstore_timeout)
    return KurrentEventStore.connect(url, settings.eventstore_timeout)


def _check_store_format(store: EventStoreConnection, *, mark: bool = True) -> None:
    """Refuse a store in another naming format (old `case-<id>` names); mark a new one when
    `mark` (a store a session only reads is never marked)."""
    try:
        check_store_format(store, mark=mark)
    except StoreFormatError as error:
        raise StoreFormatRefused(str(error)) from error


def read_store(settings: Settings) -> ReadStore:
    """SQLite in the data dir, or PostgreSQL when `readstore_url` says so (the read side's
    factory, so `caseledger projections` sees the same views)."""
    try:
        return cast(ReadStore, open_projection_store(settings))
    except ValueError as error:
        raise BootstrapError(str(error)) from error


def token_registry(settings: Settings) -> TokenRegistry:
    path = tokens_path(settings)
    return TokenRegistry.from_toml(path) if path.exists() else TokenRegistry({})


def tokens_path(settings: Settings) -> Path:
    """The configured tokens file, else the one `serve` writes into the data dir."""
    return settings.tokens_file or settings.data_dir / TOKENS_FILE


def _event_store(
    settings: Settings, mem_db: bool, port: int | None
) -> tuple[EmbeddedServer | None, str]:
    if settings.eventstore_url:
        return None, settings.eventstore_url
    data_dir = settings.data_dir / "eventstore"
    if not mem_db:
        data_dir.mkdir(parents=True, exist_ok=True)
        running = running_endpoint(data_dir)
        if running is not None:  # e.g. `caseledger serve` holds it: share that store
            return None, running
    server = _start_embedded(
        None if mem_db else data_dir,
        settings.eventstore_host,
        settings.eventstore_port if port is None else port,
        mem_db=mem_db,
    )
    return server, server.url


def _data_dir_store(settings: Settings) -> tuple[EmbeddedServer | None, str]:
    """The data dir's embedded store: the running `caseledger serve`'s that holds it (no server
    of ours), else one started for the session."""
    data_dir = settings.data_dir / "eventstore"
    if not data_dir.is_dir():
        raise NoEventStore(
            f"no event store at {data_dir}; run `caseledger serve` first, or "
            "set CASELEDGER_DATA_DIR / CASELEDGER_EVENTSTORE_URL"
        )
    url = running_endpoint(data_dir)
    if url is not None:
        return None, url
    server = _start_embedded(data_dir, "127.0.0.1", 0)
    return server, server.url


def _start_embedded(
    data_dir: Path | None, host: str, port: int, *, mem_db: bool = False
) -> EmbeddedServer:
    try:
        return EmbeddedServer.start(data_dir, host, port, mem_db=mem_db)
    except (DataDirError, ServerStartError) as error:
        raise EventStoreStartError(str(error)) from error
