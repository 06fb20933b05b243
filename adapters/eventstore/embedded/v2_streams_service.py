"""KurrentDB's v2 Streams service: AppendRecords (unary, many streams, consistency checks) and
AppendSession (a client stream of per-stream appends), both one transaction in the writer's
group commits, answered once durable."""

from __future__ import annotations

from collections.abc import Iterable

import grpc
from kurrentdbclient.protos.v2.streams import streams_pb2, streams_pb2_grpc

from caseledger.adapters.eventstore.embedded import transactions
from caseledger.adapters.eventstore.embedded import v2_errors as errors
from caseledger.adapters.eventstore.embedded import v2_messages as v2
from caseledger.adapters.eventstore.embedded.store import EmbeddedStore
from caseledger.adapters.eventstore.embedded.transactions import Refused, Transaction
from caseledger.adapters.eventstore.embedded.writer import StoreUnavailable

Context = grpc.ServicerContext


class RecordsService(streams_pb2_grpc.StreamsServiceServicer):
    def __init__(self, store: EmbeddedStore) -> None:
        self._store = store

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
