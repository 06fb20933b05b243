"""The embedded, KurrentDB-wire-compatible event store server.

It speaks KurrentDB's v1 gRPC protocol closely enough that `kurrentdbclient` works against it
unchanged, so the project has one client code path: only the connection string differs between
a laptop and a KurrentDB cluster.
"""

from __future__ import annotations

import logging
from concurrent import futures
from pathlib import Path

import grpc
from kurrentdbclient.protos.v1 import persistent_pb2_grpc, streams_pb2_grpc
from kurrentdbclient.protos.v2.streams import streams_pb2_grpc as v2_streams_pb2_grpc

from caseledger.adapters.eventstore.embedded.other_services import (
    GossipService,
    PersistentSubscriptionsService,
    UnimplementedHandler,
    gossip_handler,
)
from caseledger.adapters.eventstore.embedded.security import (
    BasicAuthInterceptor,
    SecurityConfigError,
    TlsSettings,
    check_listen,
)
from caseledger.adapters.eventstore.embedded.server_features import server_features_handler
from caseledger.adapters.eventstore.embedded.store import EmbeddedStore, is_held
from caseledger.adapters.eventstore.embedded.streams_service import (
    MAX_SUBSCRIPTIONS,
    StreamsService,
)
from caseledger.adapters.eventstore.embedded.v2_streams_service import RecordsService
from caseledger.adapters.eventstore.embedded.writer import WriteFailed

log = logging.getLogger(__name__)

ENDPOINT_FILE = "endpoint"
"""Written into the data dir while a server runs on it: its connection string, so other
processes (`caseledger replay`, `mcp`, ...) can reach the store that holds the data dir."""
MAX_MESSAGE_BYTES = 32 * 1024 * 1024
WORKERS = MAX_SUBSCRIPTIONS + 64
"""Threads serving calls: each open subscription holds one while it lives, and past the
subscription limit some are always left for appends and reads."""
APPEND_WORKERS = 4
"""Threads answering AppendRecords, the command service's append. Few on purpose: each waits
for its group commit, and threads beyond what fills a group only contend for the interpreter
(the count was chosen by measurement: docs/benchmarks-history.md, session 4)."""


KEEPALIVE_PERMITTED = (
    ("grpc.http2.min_recv_ping_interval_without_data_ms", 100),
    ("grpc.http2.max_ping_strikes", 0),
)
"""Clients may ping as often as every 100 ms, also on a connection carrying no data (an idle
subscription): caseledger's client pings every half deadline to notice a frozen or unreachable
store. gRPC's default counts pings closer than 5 minutes without data as strikes and ends the
connection with GOAWAY too_many_pings (seen after a pause, when the pings queued meanwhile
arrive at once), after which the client pings half as often."""


class ServerStartError(Exception):
    """The server could not start (port taken, data dir unusable): the message says why."""


class EmbeddedServer:
    """A running embedded store. `url` is a connection string for kurrentdbclient."""

    def __init__(
        self,
        store: EmbeddedStore,
        server: grpc.Server,
        host: str,
        port: int,
        append_pool: futures.ThreadPoolExecutor,
    ) -> None:
        self.store = store
        self._server = server
        self._append_pool = append_pool
        self.host = host
        self.port = port
        self.tls = False
        self._stopped = False

    @classmethod
    def start(
        cls,
        data_dir: Path | None,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        mem_db: bool = False,
        tls: TlsSettings | None = None,
        max_subscriptions: int = MAX_SUBSCRIPTIONS,
    ) -> EmbeddedServer:
        """Start serving on host:port (0 = any free port) in background threads. `mem_db`
        keeps the events in memory only. Off loopback, `tls` is required (see security)."""
        if not mem_db and data_dir is None:
            raise ServerStartError("a data dir is required unless mem_db is set")
        try:
            check_listen(host, tls)
            credentials = None if tls is None else tls.server_credentials()
        except SecurityConfigError as error:
            raise ServerStartError(str(error)) from error
        interceptors: list[grpc.ServerInterceptor] = (
            [] if tls is None else [BasicAuthInterceptor(tls.admin_password)]
        )
        server = grpc.server(
            futures.ThreadPoolExecutor(max_workers=WORKERS, thread_name_prefix="eventstore"),
            interceptors=interceptors,
            options=[
                ("grpc.max_receive_message_length", MAX_MESSAGE_BYTES),
                ("grpc.max_send_message_length", MAX_MESSAGE_BYTES),
                ("grpc.so_reuseport", 0),
                *KEEPALIVE_PERMITTED,
            ],
        )
        try:
            address = f"{host}:{port}"
            if credentials is None:
                bound = server.add_insecure_port(address)
            else:
                bound = server.add_secure_port(address, credentials)
        except RuntimeError as error:
            raise ServerStartError(f"cannot listen on {host}:{port}: {error}") from error
        if bound == 0:
            raise ServerStartError(f"cannot listen on {host}:{port} (is the port taken?)")
        try:
            store = EmbeddedStore(None if mem_db else data_dir, advertise=f"{host}:{bound}")
        except WriteFailed as error:  # a full disk at first start
            raise ServerStartError(str(error)) from error
        streams_pb2_grpc.add_StreamsServicer_to_server(
            StreamsService(store, max_subscriptions), server
        )  # type: ignore[no-untyped-call]
        append_pool = futures.ThreadPoolExecutor(
            APPEND_WORKERS, thread_name_prefix="eventstore-append"
        )
        v2_streams_pb2_grpc.add_StreamsServiceServicer_to_server(  # type: ignore[no-untyped-call]
            RecordsService(store, append_pool), server
        )
        persistent_pb2_grpc.add_PersistentSubscriptionsServicer_to_server(  # type: ignore[no-untyped-call]
            PersistentSubscriptionsService(), server
        )
        server.add_generic_rpc_handlers((gossip_handler(GossipService(host, bound)),))
        server.add_generic_rpc_handlers((server_features_handler(),))
        server.add_generic_rpc_handlers((UnimplementedHandler(),))
        server.start()
        log.info("embedded event store serving on %s:%s", host, bound)
        running = cls(store, server, host, bound, append_pool)
        running.tls = tls is not None
        if data_dir is not None and not mem_db:
            (data_dir / ENDPOINT_FILE).write_text(running.url + "\n", encoding="utf-8")
        return running

    @property
    def url(self) -> str:
        """Insecure: ready to use. With TLS the client also needs `admin:PASSWORD@` and the CA
        (`tlsCaFile=...` or `root_certificates`)."""
        return f"kurrentdb://{self.host}:{self.port}?tls={'true' if self.tls else 'false'}"

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the server stops (True) or the timeout passes (False)."""
        return bool(self._server.wait_for_termination(timeout))

    def stop(self, grace: float = 5.0) -> None:
        """Stop taking calls, let in-flight writes finish, end subscriptions, close the files."""
        if self._stopped:
            return
        self._stopped = True
        path = self.store.database.path
        if path is not None:
            (path / ENDPOINT_FILE).unlink(missing_ok=True)
        self.store.signal.close()
        self._server.stop(grace).wait()
        self._append_pool.shutdown(wait=True)
        self.store.close()


def running_endpoint(data_dir: Path) -> str | None:
    """The connection string of the server running on `data_dir` now, or None: a left-over
    endpoint file from a crashed server does not count (its lock is free)."""
    endpoint = data_dir / ENDPOINT_FILE
    if not endpoint.exists() or not is_held(data_dir):
        return None
    return endpoint.read_text(encoding="utf-8").strip() or None
