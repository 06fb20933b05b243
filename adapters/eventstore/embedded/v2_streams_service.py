"""KurrentDB's v2 Streams service: AppendRecords (unary, many streams, consistency checks) and
AppendSession (a client stream of per-stream appends), both one transaction in the writer's
group commits, answered once durable."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import Generic, TypeVar

import grpc
from kurrentdbclient.protos.v2.streams import streams_pb2, streams_pb2_grpc

from caseledger.adapters.eventstore.embedded import transactions
from caseledger.adapters.eventstore.embedded import v2_errors as errors
from caseledger.adapters.eventstore.embedded import v2_messages as v2
from caseledger.adapters.eventstore.embedded.store import EmbeddedStore
from caseledger.adapters.eventstore.embedded.transactions import Refused, Transaction
from caseledger.adapters.eventstore.embedded.writer import StoreUnavailable

Context = grpc.ServicerContext
Req = TypeVar("Req")
Resp = TypeVar("Resp")


class OnPool(Generic[Req, Resp]):
    """A unary handler grpc runs on `pool` instead of the server's shared one (grpc's
    `experimental_thread_pool`, looked up on the handler at each call; without it grpc uses its
    shared pool, so nothing breaks if grpc drops it)."""

    def __init__(self, handler: Callable[[Req, Context], Resp], pool: ThreadPoolExecutor) -> None:
        self._handler = handler
        self.experimental_thread_pool = pool

    def __call__(self, request: Req, context: Context) -> Resp:
        return self._handler(request, context)


class RecordsService(streams_pb2_grpc.StreamsServiceServicer):
    """With `append_pool`, AppendRecords runs on those few threads: a unary call has all its
    request before it runs, so a slow client cannot hold one of them; few, not the shared pool's
    many, so appends waiting for their group commit do not crowd the interpreter (the count:
    `server.APPEND_WORKERS`)."""

    def __init__(self, store: EmbeddedStore, append_pool: ThreadPoolExecutor | None = None) -> None:
        self._store = store
        if append_pool is not None:
            self.AppendRecords = OnPool(self.AppendRecords, append_pool)  # type: ignore[method-assign]

    def AppendRecords(
        self, request: streams_pb2.AppendRecordsRequest, context: Context
    ) -> streams_pb2.AppendRecordsResponse:
        try:
            transaction = v2.transaction(request)
        except errors.Refusal as refusal:
            errors.abort(context, refusal)
        outcome = self._commit(transaction, context)
        if isinstance(outcome, Refused):
            errors.abort(context, errors.consistency_violation(outcome.violations))
        return v2.records_response(outcome)

    def AppendSession(
        self, request_iterator: Iterable[streams_pb2.AppendRequest], context: Context
    ) -> streams_pb2.AppendSessionResponse:
        try:
            transaction = v2.session_transaction(request_iterator)
        except errors.Refusal as refusal:
            errors.abort(context, refusal)
        outcome = self._commit(transaction, context)
        if isinstance(outcome, Refused):
            errors.abort(context, errors.session_conflict(outcome.violations[0]))
        return v2.session_response(outcome)

    def _commit(
        self, transaction: Transaction, context: Context
    ) -> transactions.TransactionOutcome:
        try:
            return transactions.commit(self._store.writer, transaction)
        except StoreUnavailable as error:
            context.abort(grpc.StatusCode.UNAVAILABLE, str(error))
