"""Malformed or oversized requests get a clear status; the store keeps serving, intact."""

from __future__ import annotations

from collections.abc import Iterator

import grpc
import pytest
from kurrentdbclient import KurrentDBClient, NewEvent, StreamState
from kurrentdbclient.protos.v1 import shared_pb2, streams_pb2, streams_pb2_grpc

from caseledger.adapters.eventstore.embedded.server import EmbeddedServer

Options = streams_pb2.AppendReq.Options
Proposed = streams_pb2.AppendReq.ProposedMessage


@pytest.fixture
def stub(embedded_server: EmbeddedServer) -> Iterator[streams_pb2_grpc.StreamsStub]:
    channel = grpc.insecure_channel(
        f"{embedded_server.host}:{embedded_server.port}",
        options=[("grpc.max_send_message_length", 64 * 1024 * 1024)],
    )
    yield streams_pb2_grpc.StreamsStub(channel)  # type: ignore[no-untyped-call]
    channel.close()


def _options(stream: str = "case-1") -> streams_pb2.AppendReq:
    return streams_pb2.AppendReq(
        options=Options(
            stream_identifier=shared_pb2.StreamIdentifier(stream_name=stream.encode()),
            any=shared_pb2.Empty(),
        )
    )


def _proposed(event_id: str = "8c6c9fd6-3b5e-4a0b-9d4e-1b2a3c4d5e6f", **meta: str) -> Proposed:
    metadata = {"type": "t", "content-type": "application/json", **meta}
    return Proposed(id=shared_pb2.UUID(string=event_id), metadata=metadata, data=b"{}")


def _append_status(stub: streams_pb2_grpc.StreamsStub, requests: list[object]) -> grpc.StatusCode:
    with pytest.raises(grpc.RpcError) as raised:
        stub.Append(iter(requests), timeout=10)
    return raised.value.code()  # type: ignore[no-any-return]


def _store_is_intact(server: EmbeddedServer) -> None:
    client = KurrentDBClient(uri=server.url)
    try:
        assert client.get_current_version("case-1") is StreamState.NO_STREAM
        client.append_to_stream(
            "case-2", current_version=StreamState.NO_STREAM, events=[NewEvent(type="ok", data=b"")]
        )
        assert client.get_current_version("case-2") == 0
    finally:
        client.close()


def test_an_append_without_options_is_invalid_argument(
    stub: streams_pb2_grpc.StreamsStub, embedded_server: EmbeddedServer
) -> None:
    assert _append_status(stub, [streams_pb2.AppendReq(proposed_message=_proposed())]) == (
        grpc.StatusCode.INVALID_ARGUMENT
    )
    _store_is_intact(embedded_server)


def test_an_event_id_that_is_not_a_uuid_is_invalid_argument_and_nothing_is_written(
    stub: streams_pb2_grpc.StreamsStub, embedded_server: EmbeddedServer
) -> None:
    good = streams_pb2.AppendReq(proposed_message=_proposed())
    bad = streams_pb2.AppendReq(proposed_message=_proposed(event_id="not-a-uuid"))
    assert _append_status(stub, [_options(), good, bad]) == grpc.StatusCode.INVALID_ARGUMENT
    _store_is_intact(embedded_server)


def test_an_event_without_a_type_is_invalid_argument(
    stub: streams_pb2_grpc.StreamsStub, embedded_server: EmbeddedServer
) -> None:
    untyped = Proposed(
        id=shared_pb2.UUID(string="8c6c9fd6-3b5e-4a0b-9d4e-1b2a3c4d5e6f"),
        metadata={"content-type": "application/json"},
        data=b"{}",
    )
    requests = [_options(), streams_pb2.AppendReq(proposed_message=untyped)]
    assert _append_status(stub, requests) == grpc.StatusCode.INVALID_ARGUMENT
    _store_is_intact(embedded_server)


def test_an_empty_stream_name_is_invalid_argument(
    stub: streams_pb2_grpc.StreamsStub, embedded_server: EmbeddedServer
) -> None:
    requests = [_options(stream=""), streams_pb2.AppendReq(proposed_message=_proposed())]
    assert _append_status(stub, requests) == grpc.StatusCode.INVALID_ARGUMENT
    _store_is_intact(embedded_server)


@pytest.mark.parametrize(
    ("megabytes", "status"),
    [
        pytest.param(17, grpc.StatusCode.INVALID_ARGUMENT, id="event over the 16 MiB limit"),
        pytest.param(40, grpc.StatusCode.RESOURCE_EXHAUSTED, id="message over the transport limit"),
    ],
)
def test_an_oversized_event_is_refused_with_kurrentdbs_status(
    stub: streams_pb2_grpc.StreamsStub,
    embedded_server: EmbeddedServer,
    megabytes: int,
    status: grpc.StatusCode,
) -> None:
    huge = _proposed()
    huge.data = b"x" * (megabytes * 1024 * 1024)
    assert (
        _append_status(stub, [_options(), streams_pb2.AppendReq(proposed_message=huge)]) == status
    )
    _store_is_intact(embedded_server)


def test_a_filter_regex_that_does_not_compile_is_invalid_argument(
    stub: streams_pb2_grpc.StreamsStub, embedded_server: EmbeddedServer
) -> None:
    Read = streams_pb2.ReadReq.Options  # noqa: N806 - protobuf type
    options = Read(
        all=Read.AllOptions(start=shared_pb2.Empty()),
        read_direction=Read.Forwards,
        count=10,
        filter=Read.FilterOptions(
            event_type=Read.FilterOptions.Expression(regex="(unclosed"), max=10
        ),
        uuid_option=Read.UUIDOption(string=shared_pb2.Empty()),
    )
    with pytest.raises(grpc.RpcError) as raised:
        list(stub.Read(streams_pb2.ReadReq(options=options), timeout=10))
    assert raised.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    _store_is_intact(embedded_server)


def test_an_unknown_method_is_unimplemented_with_a_clear_message(
    embedded_server: EmbeddedServer,
) -> None:
    channel = grpc.insecure_channel(f"{embedded_server.host}:{embedded_server.port}")
    try:
        call = channel.unary_unary("/event_store.client.users.Users/Create")
        with pytest.raises(grpc.RpcError) as raised:
            call(b"", timeout=10)
        assert raised.value.code() == grpc.StatusCode.UNIMPLEMENTED
        assert "Users/Create" in (raised.value.details() or "")
    finally:
        channel.close()


# ---- numbers and names at the edges of what the wire allows ---------------------------------

LARGEST_UINT64 = 2**64 - 1


def _read(stub: streams_pb2_grpc.StreamsStub, options: streams_pb2.ReadReq.Options) -> list[str]:
    options.no_filter.SetInParent()
    options.uuid_option.string.SetInParent()
    responses = stub.Read(streams_pb2.ReadReq(options=options), timeout=5)
    return [str(response.WhichOneof("content")) for response in responses]


def _stream_read(revision: int, *, forwards: bool, count: int = 10) -> streams_pb2.ReadReq.Options:
    direction = streams_pb2.ReadReq.Options.Forwards if forwards else 1
    options = streams_pb2.ReadReq.Options(read_direction=direction, count=count)
    options.stream.stream_identifier.stream_name = b"case-2"
    options.stream.revision = revision
    return options


@pytest.mark.parametrize("revision", [LARGEST_UINT64, 2**63])
def test_a_stream_read_from_a_revision_past_sqlites_integers_is_an_ordinary_read(
    stub: streams_pb2_grpc.StreamsStub, kurrent_client: KurrentDBClient, revision: int
) -> None:
    kurrent_client.append_to_stream(
        "case-2", current_version=StreamState.NO_STREAM, events=[NewEvent(type="t", data=b"")]
    )
    assert _read(stub, _stream_read(revision, forwards=True)) == []
    assert _read(stub, _stream_read(revision, forwards=False)) == ["event"]

    subscription = _stream_read(revision, forwards=True)
    subscription.subscription.SetInParent()
    subscription.no_filter.SetInParent()
    subscription.uuid_option.string.SetInParent()
    responses = stub.Read(streams_pb2.ReadReq(options=subscription), timeout=5)
    first_two = [next(responses).WhichOneof("content") for _ in range(2)]
    responses.cancel()  # type: ignore[attr-defined]
    assert first_two == ["confirmation", "caught_up"]


def test_an_all_read_from_a_position_past_sqlites_integers_is_kurrentdbs_invalid_position(
    stub: streams_pb2_grpc.StreamsStub, embedded_server: EmbeddedServer
) -> None:
    options = streams_pb2.ReadReq.Options(read_direction=streams_pb2.ReadReq.Options.Forwards)
    options.all.position.commit_position = LARGEST_UINT64
    options.all.position.prepare_position = LARGEST_UINT64
    options.count = 10
    with pytest.raises(grpc.RpcError) as raised:
        _read(stub, options)
    assert raised.value.code() is grpc.StatusCode.UNKNOWN
    assert raised.value.details() == "Unexpected ReadAllResult: InvalidPosition"
    _store_is_intact(embedded_server)


def test_a_truncate_before_past_every_revision_truncates_everything_and_breaks_nothing(
    kurrent_client: KurrentDBClient, embedded_server: EmbeddedServer
) -> None:
    kurrent_client.append_to_stream(
        "case-3", current_version=StreamState.NO_STREAM, events=[NewEvent(type="t", data=b"")]
    )
    kurrent_client.set_stream_metadata("case-3", metadata={"$tb": 2**70})

    assert kurrent_client.get_current_version("case-3") is StreamState.NO_STREAM
    kurrent_client.append_to_stream(
        "case-3", current_version=StreamState.ANY, events=[NewEvent(type="t", data=b"")]
    )
    _store_is_intact(embedded_server)


@pytest.mark.parametrize("name", ["дело-1", "case\n1", "case-\u00e9"])
def test_a_deleted_stream_whose_name_no_header_can_carry_is_still_failed_precondition(
    stub: streams_pb2_grpc.StreamsStub, kurrent_client: KurrentDBClient, name: str
) -> None:
    kurrent_client.tombstone_stream(name, current_version=StreamState.ANY)

    status = _append_status(
        stub, [_options(name), streams_pb2.AppendReq(proposed_message=_proposed())]
    )

    assert status is grpc.StatusCode.FAILED_PRECONDITION
