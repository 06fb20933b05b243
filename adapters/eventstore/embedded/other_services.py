"""Gossip (one leader: this node), persistent subscriptions (none), and UNIMPLEMENTED for the
rest, so a client learns clearly what the embedded store does not do."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from typing import Any, NoReturn

import grpc
from kurrentdbclient.protos.v1 import (
    gossip_pb2,
    gossip_pb2_grpc,
    persistent_pb2,
    persistent_pb2_grpc,
    shared_pb2,
)

_NOT_HERE = (
    "caseledger's embedded event store does not implement {method}; "
    "use a KurrentDB cluster (CASELEDGER_EVENTSTORE_URL) for it"
)


def _authority(context: grpc.ServicerContext) -> str | None:
    """The host:port the client dialled (grpcio keeps it on the call details)."""
    rpc_event = getattr(context, "_rpc_event", None)
    host = getattr(getattr(rpc_event, "call_details", None), "host", None)
    if isinstance(host, bytes):
        host = host.decode("utf-8", "replace")
    return host or None


class GossipService(gossip_pb2_grpc.GossipServicer):
    """A cluster of one: this node, the leader, at the address the client used.

    Register it with `gossip_handler`: grpcio fills in the dialled host only for methods served
    through a generic handler, not for pre-registered ones."""

    def __init__(self, host: str, port: int) -> None:
        self._host = host
        self._port = port
        self._instance_id = str(uuid.uuid4())

    def Read(self, request: shared_pb2.Empty, context: grpc.ServicerContext) -> Any:
        host, port = self._host, self._port
        authority = _authority(context)
        if authority and ":" in authority:
            named_host, _, named_port = authority.rpartition(":")
            if named_port.isdigit():
                host, port = named_host.strip("[]"), int(named_port)
        member = gossip_pb2.MemberInfo(
            instance_id=shared_pb2.UUID(string=self._instance_id),
            time_stamp=time.time_ns() // 100,
            state=gossip_pb2.MemberInfo.Leader,
            is_alive=True,
            http_end_point=gossip_pb2.EndPoint(address=host, port=port),
        )
        return gossip_pb2.ClusterInfo(members=[member])


def gossip_handler(service: GossipService) -> grpc.GenericRpcHandler:
    read = grpc.unary_unary_rpc_method_handler(
        service.Read,
        request_deserializer=shared_pb2.Empty.FromString,
        response_serializer=gossip_pb2.ClusterInfo.SerializeToString,
    )
    return grpc.method_handlers_generic_handler("event_store.client.gossip.Gossip", {"Read": read})


class PersistentSubscriptionsService(persistent_pb2_grpc.PersistentSubscriptionsServicer):
    """Lists no persistent subscriptions; creating or reading one is UNIMPLEMENTED."""

    def List(self, request: persistent_pb2.ListReq, context: grpc.ServicerContext) -> Any:
        return persistent_pb2.ListResp(subscriptions=[])

    def __getattribute__(self, name: str) -> Any:
        if name[:1].isupper() and name != "List":
            return _unimplemented(f"PersistentSubscriptions.{name}")
        return super().__getattribute__(name)


def _unimplemented(method: str) -> Callable[[Any, grpc.ServicerContext], NoReturn]:
    def handler(request: Any, context: grpc.ServicerContext) -> NoReturn:
        context.abort(grpc.StatusCode.UNIMPLEMENTED, _NOT_HERE.format(method=method))

    return handler


class UnimplementedHandler(grpc.GenericRpcHandler):
    """Answers any method no registered service knows with UNIMPLEMENTED and its name."""

    def service(
        self, handler_call_details: grpc.HandlerCallDetails
    ) -> grpc.RpcMethodHandler[Any, Any]:
        method = handler_call_details.method

        def handler(request_iterator: Any, context: grpc.ServicerContext) -> NoReturn:
            context.abort(grpc.StatusCode.UNIMPLEMENTED, _NOT_HERE.format(method=method))

        return grpc.stream_stream_rpc_method_handler(handler)
