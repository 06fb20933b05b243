"""The parts of KurrentDB's API beyond streams that the client touches: gossip, persistent
subscription listing, and a clear UNIMPLEMENTED for everything the store does not offer."""

from __future__ import annotations

from pathlib import Path

import grpc
import pytest
from kurrentdbclient import KurrentDBClient, StreamState
from kurrentdbclient.exceptions import GrpcError
from kurrentdbclient.gossip import NODE_STATE_LEADER

from caseledger.adapters.eventstore.embedded.server import EmbeddedServer
from tests.support.kurrent_helpers import append, host_and_port, new_events, stream_name


def test_gossip_reports_one_leader_at_the_address_the_client_used(
    embedded_server: EmbeddedServer, kurrent_client: KurrentDBClient
) -> None:
    members = kurrent_client.read_gossip()

    assert len(members) == 1
    assert members[0].state == NODE_STATE_LEADER
    assert (members[0].address, members[0].port) == host_and_port(embedded_server.url)


def test_a_discovering_client_finds_the_leader_through_gossip(
    embedded_server: EmbeddedServer,
) -> None:
    host, port = host_and_port(embedded_server.url)
    client = KurrentDBClient(uri=f"kurrentdb+discover://{host}:{port}?tls=false")
    try:
        stream = stream_name()
        append(client, stream, new_events(1), StreamState.NO_STREAM)
        assert client.get_current_version(stream) == 0
    finally:
        client.close()


def test_listing_persistent_subscriptions_is_empty(kurrent_client: KurrentDBClient) -> None:
    assert kurrent_client.list_subscriptions() == []
    assert kurrent_client.list_subscriptions_to_stream(stream_name()) == []


def test_creating_a_persistent_subscription_is_unimplemented(
    kurrent_client: KurrentDBClient,
) -> None:
    with pytest.raises(GrpcError, match="UNIMPLEMENTED"):
        kurrent_client.create_subscription_to_all("group")


def test_projections_are_unimplemented(kurrent_client: KurrentDBClient) -> None:
    with pytest.raises(GrpcError, match="UNIMPLEMENTED"):
        kurrent_client.create_projection(name="counter", query="fromAll()")


def test_gossip_advertises_the_address_the_client_used_not_the_bound_name(
    tmp_path: Path,
) -> None:
    server = EmbeddedServer.start(tmp_path, host="localhost")
    try:
        _, port = host_and_port(server.url)
        client = KurrentDBClient(uri=f"kurrentdb://127.0.0.1:{port}?tls=false")
        try:
            members = client.read_gossip()
        finally:
            client.close()
    finally:
        server.stop(grace=1.0)

    assert [(m.address, m.port) for m in members] == [("127.0.0.1", port)]


def test_server_features_lists_the_methods_the_store_serves(
    embedded_server: EmbeddedServer,
) -> None:
    # The Node.js and .NET clients call BatchAppend and the v2 appends only once listed here.
    with grpc.insecure_channel(f"{embedded_server.host}:{embedded_server.port}") as channel:
        call = channel.unary_unary(
            "/event_store.client.server_features.ServerFeatures/GetSupportedMethods",
            request_serializer=lambda request: request,
            response_deserializer=lambda reply: reply,
        )
        reply: bytes = call(b"", timeout=10)

    for path in (
        b"event_store.client.streams.streams",
        b"batchappend",
        b"kurrentdb.protocol.v2.streams.streamsservice",
        b"appendrecords",
        b"appendsession",
        b"26.1.0",
    ):
        assert path in reply
    assert b"persistent" not in reply
