"""KurrentDB v2 appends through the real client: AppendRecords (many streams, one commit,
consistency checks) and AppendSession (`multi_append_to_stream`)."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest
import trustme
from kurrentdbclient import KurrentDBClient, NewEvent, StreamState
from kurrentdbclient.events import ContentType, NewEvents, NewRecord, StreamStateCheck
from kurrentdbclient.exceptions import (
    ConsistencyCheckFailure,
    ConsistencyChecksFailedError,
    MultiAppendToSameStreamError,
    RecordMaxSizeExceededError,
    StreamTombstonedError,
    TransactionMaxSizeExceededError,
    UnauthenticatedError,
    WrongCurrentVersionError,
)
from kurrentdbclient.exceptions import StreamStateCheckFailure as Failure
from kurrentdbclient.protos.v2.streams import streams_pb2, streams_pb2_grpc

from caseledger.adapters.eventstore.embedded import v2_messages
from caseledger.adapters.eventstore.embedded.security import TlsSettings
from caseledger.adapters.eventstore.embedded.server import EmbeddedServer
from tests.support.kurrent_helpers import append, new_events, stream_name

NO_STREAM, ANY, EXISTS, DELETED, TOMBSTONED = -1, -2, -4, -5, -6


def record(stream: str, n: int = 0, data: bytes | None = None) -> NewRecord:
    body = f'{{"n": {n}}}'.encode() if data is None else data
    return NewRecord(stream_name=stream, type="OrderUpdated", data=body)


def failures(
    error: pytest.ExceptionInfo[ConsistencyChecksFailedError],
) -> list[tuple[int, Failure]]:
    found: tuple[ConsistencyCheckFailure, ...] = error.value.failures
    return [(f.check_index, f.stream_state_failure) for f in found]  # type: ignore[misc]


def versions(client: KurrentDBClient, *streams: str) -> list[int | StreamState]:
    return [client.get_current_version(s) for s in streams]


# ---- multi-stream, one commit ----------------------------------------------------------------


def test_records_to_several_streams_commit_together_with_each_streams_last_revision(
    kurrent_client: KurrentDBClient,
) -> None:
    a, b = stream_name(), stream_name()
    append(kurrent_client, a, new_events(2))

    result = kurrent_client.append_records([record(a), record(b), record(a), record(b), record(a)])

    assert {p.stream_name: p.stream_position for p in result.stream_positions} == {
        a: 4,
        b: 1,
    }
    assert [e.stream_position for e in kurrent_client.get_stream(a)] == [0, 1, 2, 3, 4]
    last = kurrent_client.get_stream(a, backwards=True, limit=1)[0]
    assert result.commit_position == last.commit_position


def test_records_appear_in_all_in_request_order_one_after_another(
    kurrent_client: KurrentDBClient,
) -> None:
    a, b = stream_name(), stream_name()
    before = kurrent_client.get_commit_position()

    kurrent_client.append_records([record(a, 0), record(b, 1), record(a, 2)])

    after = [
        e for e in kurrent_client.read_all(commit_position=before) if e.commit_position > before
    ]
    assert [(e.stream_name, e.data) for e in after] == [
        (a, b'{"n": 0}'),
        (b, b'{"n": 1}'),
        (a, b'{"n": 2}'),
    ]


def test_records_read_back_through_v1_exactly_as_an_equivalent_v1_append(
    kurrent_client: KurrentDBClient,
) -> None:
    v1, v2 = stream_name("v1"), stream_name("v2")
    json: ContentType = "application/json"
    binary: ContentType = "application/octet-stream"
    shapes = [
        ("Noted", b'{"a": 1}', b'{"actor":"u-1","trace":"t-9"}', json),
        ("Blob", b"\x00\xff", b"", binary),
        ("Empty", b"", b"", json),
    ]
    for type_, data, metadata, content_type in shapes:
        event_id = uuid.uuid4()
        append(kurrent_client, v1, [NewEvent(type_, data, metadata, content_type, event_id)])
        kurrent_client.append_records(NewRecord(v2, type_, data, metadata, content_type, event_id))

    def shape(stream: str) -> list[tuple[object, ...]]:
        read = kurrent_client.get_stream(stream)
        return [(e.id, e.type, e.data, e.metadata, e.content_type, e.stream_position) for e in read]

    assert shape(v2) == shape(v1)


# ---- consistency checks ----------------------------------------------------------------------


def test_a_check_at_the_streams_revision_lets_the_append_through(
    kurrent_client: KurrentDBClient,
) -> None:
    a, guard = stream_name(), stream_name()
    append(kurrent_client, a, new_events(2))
    append(kurrent_client, guard, new_events(1))

    result = kurrent_client.append_records(
        record(a), [StreamStateCheck(a, 1), StreamStateCheck(guard, 0)]
    )

    assert [(p.stream_name, p.stream_position) for p in result.stream_positions] == [(a, 2)]
    assert versions(kurrent_client, a, guard) == [2, 0]


def test_no_stream_and_exists_checks_pass_on_a_new_and_an_existing_stream(
    kurrent_client: KurrentDBClient,
) -> None:
    new, existing = stream_name(), stream_name()
    append(kurrent_client, existing, new_events(1))

    kurrent_client.append_records(
        [record(new), record(existing)],
        [
            StreamStateCheck(new, StreamState.NO_STREAM),
            StreamStateCheck(existing, StreamState.EXISTS),
        ],
    )

    assert versions(kurrent_client, new, existing) == [0, 1]


def test_a_revision_mismatch_fails_with_the_actual_revision_and_writes_nothing(
    kurrent_client: KurrentDBClient,
) -> None:
    a, b = stream_name(), stream_name()
    append(kurrent_client, a, new_events(2))

    with pytest.raises(ConsistencyChecksFailedError) as error:
        kurrent_client.append_records([record(a), record(b)], StreamStateCheck(a, 0))

    assert failures(error) == [(0, Failure(a, 0, 1))]
    assert versions(kurrent_client, a) == [1]
    assert _missing(kurrent_client, b)


def test_no_stream_on_an_existing_stream_fails_and_writes_nothing(
    kurrent_client: KurrentDBClient,
) -> None:
    a, b = stream_name(), stream_name()
    append(kurrent_client, a, new_events(3))

    with pytest.raises(ConsistencyChecksFailedError) as error:
        kurrent_client.append_records(record(b), StreamStateCheck(a, StreamState.NO_STREAM))

    assert failures(error) == [(0, Failure(a, NO_STREAM, 2))]
    assert _missing(kurrent_client, b)


def test_exists_on_a_missing_stream_fails_and_writes_nothing(
    kurrent_client: KurrentDBClient,
) -> None:
    a, b = stream_name(), stream_name()

    with pytest.raises(ConsistencyChecksFailedError) as error:
        kurrent_client.append_records(record(a), StreamStateCheck(b, StreamState.EXISTS))

    assert failures(error) == [(0, Failure(b, EXISTS, NO_STREAM))]
    assert _missing(kurrent_client, a)


def test_any_check_on_a_tombstoned_stream_fails_with_actual_tombstoned(
    kurrent_client: KurrentDBClient,
) -> None:
    gone, a = stream_name(), stream_name()
    append(kurrent_client, gone, new_events(1))
    kurrent_client.tombstone_stream(gone, current_version=0)

    with pytest.raises(ConsistencyChecksFailedError) as error:
        kurrent_client.append_records(
            record(a),
            [
                StreamStateCheck(gone, StreamState.NO_STREAM),
                StreamStateCheck(a, StreamState.NO_STREAM),
            ],
        )

    assert failures(error) == [(0, Failure(gone, NO_STREAM, TOMBSTONED))]
    assert _missing(kurrent_client, a)


def test_writing_to_a_tombstoned_stream_fails_its_implicit_any_check_numbered_after_the_checks(
    kurrent_client: KurrentDBClient,
) -> None:
    gone, a = stream_name(), stream_name()
    kurrent_client.tombstone_stream(gone, current_version=StreamState.ANY)

    with pytest.raises(ConsistencyChecksFailedError) as error:
        kurrent_client.append_records(
            [record(a), record(gone)], StreamStateCheck(a, StreamState.NO_STREAM)
        )

    assert failures(error) == [(1, Failure(gone, ANY, TOMBSTONED))]
    assert _missing(kurrent_client, a)


def test_every_failed_check_is_reported_in_check_order(kurrent_client: KurrentDBClient) -> None:
    a, b, c = stream_name(), stream_name(), stream_name()
    append(kurrent_client, a, new_events(1))
    append(kurrent_client, b, new_events(2))

    with pytest.raises(ConsistencyChecksFailedError) as error:
        kurrent_client.append_records(
            record(c),
            [
                StreamStateCheck(a, 999),
                StreamStateCheck(c, StreamState.NO_STREAM),
                StreamStateCheck(b, 888),
            ],
        )

    assert failures(error) == [(0, Failure(a, 999, 0)), (2, Failure(b, 888, 1))]


def test_a_soft_deleted_stream_is_writable_and_reports_deleted_when_expected_to_exist(
    kurrent_client: KurrentDBClient,
) -> None:
    deleted = stream_name()
    append(kurrent_client, deleted, new_events(1))
    kurrent_client.delete_stream(deleted, current_version=0)

    with pytest.raises(ConsistencyChecksFailedError) as error:
        kurrent_client.append_records(
            record(deleted), StreamStateCheck(deleted, StreamState.EXISTS)
        )
    result = kurrent_client.append_records(record(deleted), StreamStateCheck(deleted, 0))

    assert failures(error) == [(0, Failure(deleted, EXISTS, DELETED))]
    assert [p.stream_position for p in result.stream_positions] == [1]
    assert [e.stream_position for e in kurrent_client.get_stream(deleted)] == [1]


def test_concurrent_appends_racing_on_the_same_check_let_exactly_one_win(
    embedded_server: EmbeddedServer,
) -> None:
    contended, racers = stream_name(), 8
    clients = [KurrentDBClient(uri=embedded_server.url) for _ in range(racers)]
    start = threading.Barrier(racers)
    outcomes: list[str] = []

    def race(i: int) -> None:
        start.wait()
        try:
            clients[i].append_records(
                [record(contended, i), record(stream_name("side"), i)],
                StreamStateCheck(contended, StreamState.NO_STREAM),
            )
            outcomes.append("won")
        except ConsistencyChecksFailedError:
            outcomes.append("lost")

    threads = [threading.Thread(target=race, args=(i,)) for i in range(racers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    read = clients[0].get_stream(contended)
    for client in clients:
        client.close()

    assert sorted(outcomes) == ["lost"] * (racers - 1) + ["won"]
    assert len(read) == 1


def test_v1_appends_and_append_records_share_one_writer_and_never_share_a_revision(
    embedded_server: EmbeddedServer,
) -> None:
    shared, writers, each = stream_name(), 6, 10
    clients = [KurrentDBClient(uri=embedded_server.url) for _ in range(writers)]

    def write(i: int) -> None:
        for n in range(each):
            if i % 2:
                append(clients[i], shared, new_events(1))
            else:
                clients[i].append_records(record(shared, n))

    threads = [threading.Thread(target=write, args=(i,)) for i in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    read = clients[0].get_stream(shared)
    for client in clients:
        client.close()

    assert [e.stream_position for e in read] == list(range(writers * each))
    assert sorted(e.commit_position for e in read) == [e.commit_position for e in read]


def test_acknowledged_records_survive_a_restart(
    durable_server: EmbeddedServer, tmp_path: Path
) -> None:
    a, b = stream_name(), stream_name()
    client = KurrentDBClient(uri=durable_server.url)
    result = client.append_records([record(a), record(b)])
    client.close()
    durable_server.stop()

    restarted = EmbeddedServer.start(tmp_path / "eventstore")
    try:
        client = KurrentDBClient(uri=restarted.url)
        read = [client.get_stream(a)[0], client.get_stream(b)[0]]
        client.close()
    finally:
        restarted.stop()

    assert read[1].commit_position == result.commit_position
    assert [e.stream_name for e in read] == [a, b]


# ---- idempotency -----------------------------------------------------------------------------


def test_repeating_an_append_with_the_same_record_ids_returns_the_original_result(
    kurrent_client: KurrentDBClient,
) -> None:
    a, b = stream_name(), stream_name()
    records = [record(a), record(b), record(a)]
    check = StreamStateCheck(a, StreamState.NO_STREAM)
    first = kurrent_client.append_records(records, check)

    again = kurrent_client.append_records(records, check)

    assert again == first
    assert versions(kurrent_client, a, b) == [1, 0]


def test_repeated_records_in_one_stream_beside_new_ones_in_another_fail_the_repeated_stream(
    kurrent_client: KurrentDBClient,
) -> None:
    a, b = stream_name(), stream_name()
    known = record(a)
    kurrent_client.append_records(known)

    with pytest.raises(ConsistencyChecksFailedError) as error:
        kurrent_client.append_records([known, record(b)])

    assert failures(error) == [(0, Failure(a, ANY, 0))]
    assert _missing(kurrent_client, b)


# ---- AppendSession: multi_append_to_stream ---------------------------------------------------


def test_multi_append_writes_each_stream_at_its_expected_version_in_one_commit(
    kurrent_client: KurrentDBClient,
) -> None:
    a, b = stream_name(), stream_name()
    append(kurrent_client, a, new_events(1))

    position = kurrent_client.multi_append_to_stream(
        [NewEvents(a, new_events(2), 0), NewEvents(b, new_events(1), StreamState.NO_STREAM)]
    )

    assert versions(kurrent_client, a, b) == [2, 0]
    assert position == kurrent_client.get_stream(b)[0].commit_position


def test_multi_append_with_a_wrong_version_raises_and_writes_nothing(
    kurrent_client: KurrentDBClient,
) -> None:
    a, b = stream_name(), stream_name()
    append(kurrent_client, a, new_events(2))

    with pytest.raises(WrongCurrentVersionError):
        kurrent_client.multi_append_to_stream(
            [NewEvents(b, new_events(1), StreamState.ANY), NewEvents(a, new_events(1), 0)]
        )

    assert _missing(kurrent_client, b)


def test_multi_append_to_a_tombstoned_stream_raises_stream_tombstoned(
    kurrent_client: KurrentDBClient,
) -> None:
    gone = stream_name()
    kurrent_client.tombstone_stream(gone, current_version=StreamState.ANY)

    with pytest.raises(StreamTombstonedError):
        kurrent_client.multi_append_to_stream(NewEvents(gone, new_events(1), StreamState.ANY))


def test_multi_append_naming_a_stream_twice_is_refused(kurrent_client: KurrentDBClient) -> None:
    a = stream_name()

    with pytest.raises(MultiAppendToSameStreamError):
        kurrent_client.multi_append_to_stream(
            [NewEvents(a, new_events(1), StreamState.ANY), NewEvents(a, new_events(1), 0)]
        )

    assert _missing(kurrent_client, a)


# ---- bad input: a clear status, nothing written ----------------------------------------------


def test_a_record_over_the_size_limit_is_refused_with_its_id_and_size(
    kurrent_client: KurrentDBClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(v2_messages, "MAX_EVENT_BYTES", 1000)
    a = stream_name()
    big = record(a, data=b"x" * 1001)

    with pytest.raises(RecordMaxSizeExceededError) as error:
        kurrent_client.append_records([record(a), big])

    assert (error.value.event_id, error.value.max_size) == (big.id, 1000)
    assert error.value.size > 1000
    assert _missing(kurrent_client, a)


def test_a_transaction_over_the_size_limit_is_aborted(
    kurrent_client: KurrentDBClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(v2_messages, "MAX_TRANSACTION_BYTES", 100)
    a = stream_name()

    with pytest.raises(TransactionMaxSizeExceededError) as error:
        kurrent_client.append_records([record(a, i) for i in range(10)])

    assert error.value.max_size == 100
    assert _missing(kurrent_client, a)


@pytest.fixture
def stub(embedded_server: EmbeddedServer) -> Iterator[streams_pb2_grpc.StreamsServiceStub]:
    channel = grpc.insecure_channel(f"{embedded_server.host}:{embedded_server.port}")
    yield streams_pb2_grpc.StreamsServiceStub(channel)  # type: ignore[no-untyped-call]
    channel.close()


def _raw(stream: str = "case-1", **fields: object) -> streams_pb2.AppendRecord:
    defaults: dict[str, object] = {
        "stream": stream,
        "schema": streams_pb2.SchemaInfo(format=streams_pb2.SCHEMA_FORMAT_JSON, name="t"),
        "data": b"{}",
    }
    return streams_pb2.AppendRecord(**(defaults | fields))  # type: ignore[arg-type]


def _check(stream: str, expected: int) -> streams_pb2.ConsistencyCheck:
    state = streams_pb2.ConsistencyCheck.StreamStateCheck(stream=stream, expected_state=expected)
    return streams_pb2.ConsistencyCheck(stream_state=state)


BAD_REQUESTS = {
    "no records": streams_pb2.AppendRecordsRequest(),
    "a record without a stream": streams_pb2.AppendRecordsRequest(records=[_raw(), _raw("")]),
    "a record id that is not a uuid": streams_pb2.AppendRecordsRequest(
        records=[_raw(record_id="not-a-uuid")]
    ),
    "a record to a system stream": streams_pb2.AppendRecordsRequest(records=[_raw("$$case-1")]),
    "a record without a schema name": streams_pb2.AppendRecordsRequest(
        records=[_raw(schema=streams_pb2.SchemaInfo(format=streams_pb2.SCHEMA_FORMAT_JSON))]
    ),
    "a check of no kind": streams_pb2.AppendRecordsRequest(
        records=[_raw()], checks=[streams_pb2.ConsistencyCheck()]
    ),
    "an unknown expected state": streams_pb2.AppendRecordsRequest(
        records=[_raw()], checks=[_check("case-1", -3)]
    ),
    "two checks on one stream": streams_pb2.AppendRecordsRequest(
        records=[_raw()], checks=[_check("case-1", ANY), _check("case-1", NO_STREAM)]
    ),
}


@pytest.mark.parametrize("request_", BAD_REQUESTS.values(), ids=BAD_REQUESTS.keys())
def test_a_malformed_request_is_invalid_argument_and_writes_nothing(
    stub: streams_pb2_grpc.StreamsServiceStub,
    embedded_server: EmbeddedServer,
    request_: streams_pb2.AppendRecordsRequest,
) -> None:
    head = embedded_server.store.head

    with pytest.raises(grpc.RpcError) as error:
        stub.AppendRecords(request_)

    assert error.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert error.value.details()
    assert embedded_server.store.head == head


@pytest.mark.parametrize(
    "requests",
    [
        pytest.param([], id="no append request"),
        pytest.param(
            [streams_pb2.AppendRequest(stream="case-1", records=[_raw("", record_id="nope")])],
            id="a record id that is not a uuid",
        ),
        pytest.param([streams_pb2.AppendRequest(stream="case-1")], id="a request without records"),
    ],
)
def test_a_malformed_append_session_is_invalid_argument_and_writes_nothing(
    stub: streams_pb2_grpc.StreamsServiceStub,
    embedded_server: EmbeddedServer,
    requests: list[streams_pb2.AppendRequest],
) -> None:
    head = embedded_server.store.head

    with pytest.raises(grpc.RpcError) as error:
        stub.AppendSession(iter(requests))

    assert error.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert embedded_server.store.head == head


def test_a_record_without_an_id_gets_one_from_the_server(
    stub: streams_pb2_grpc.StreamsServiceStub, kurrent_client: KurrentDBClient
) -> None:
    stream = stream_name()

    stub.AppendRecords(streams_pb2.AppendRecordsRequest(records=[_raw(stream), _raw(stream)]))

    ids = [e.id for e in kurrent_client.get_stream(stream)]
    assert len(set(ids)) == 2
    assert all(i.version == 4 for i in ids)


def _missing(client: KurrentDBClient, stream: str) -> bool:
    return client.get_current_version(stream) == StreamState.NO_STREAM


# ---- security: the v2 service is behind the same admin login as v1 --------------------------


@pytest.fixture
def secure_server(tmp_path: Path) -> Iterator[tuple[EmbeddedServer, trustme.CA]]:
    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1")
    cert.private_key_pem.write_to_path(str(tmp_path / "key.pem"))
    cert.cert_chain_pems[0].write_to_path(str(tmp_path / "cert.pem"))
    tls = TlsSettings(tmp_path / "cert.pem", tmp_path / "key.pem", "correct horse")
    server = EmbeddedServer.start(None, mem_db=True, tls=tls)
    yield server, ca
    server.stop(grace=1.0)


@pytest.mark.parametrize(("password", "allowed"), [("correct horse", True), ("guess", False)])
def test_append_records_needs_the_admin_login_over_tls(
    secure_server: tuple[EmbeddedServer, trustme.CA], password: str, allowed: bool
) -> None:
    server, ca = secure_server
    client = KurrentDBClient(
        uri=f"kurrentdb://admin:{password}@{server.host}:{server.port}?tls=true",
        root_certificates=ca.cert_pem.bytes().decode(),
    )
    try:
        if allowed:
            client.append_records(record("case-1"))
        else:
            with pytest.raises(UnauthenticatedError):
                client.append_records(record("case-1"))
            with pytest.raises(UnauthenticatedError):
                client.multi_append_to_stream(NewEvents("case-1", new_events(1), StreamState.ANY))
    finally:
        client.close()
    assert (server.store.stream_state("case-1").last_revision == 0) is allowed
