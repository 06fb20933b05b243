"""KurrentDB's `ServerFeatures.GetSupportedMethods`: the methods this store serves.

Some clients ask before they call: the Node.js and .NET clients use `BatchAppend`, and the v2
`AppendRecords` and `AppendSession`, only when the server lists them, and otherwise fall back
or refuse (`UnsupportedError`). kurrentdbclient never asks. The messages are built from their
field numbers (serverfeatures.proto: SupportedMethods {methods = 1, event_store_server_version
= 2}, SupportedMethod {method_name = 1, service_name = 2, features = 3}); kurrentdbclient ships
no Python code for them.
"""

from __future__ import annotations

from typing import Any

import grpc
from google.protobuf import descriptor_pb2, descriptor_pool, message_factory

SERVICE = "event_store.client.server_features.ServerFeatures"
SERVER_VERSION = "26.1.0"
"""The KurrentDB release whose protocol the store speaks (v2 AppendRecords came in 26.1)."""
SUPPORTED = {
    "event_store.client.streams.Streams": ("Append", "BatchAppend", "Read", "Delete", "Tombstone"),
    "kurrentdb.protocol.v2.streams.StreamsService": ("AppendRecords", "AppendSession"),
    "event_store.client.gossip.Gossip": ("Read",),
    SERVICE: ("GetSupportedMethods",),
}
"""What the store answers; persistent subscriptions (listed empty, otherwise UNIMPLEMENTED)
are left out, so clients do not offer them."""


def _message_classes() -> tuple[Any, Any]:
    proto = descriptor_pb2.FileDescriptorProto(
        name="caseledger/serverfeatures.proto", package="event_store.client.server_features"
    )
    string, repeated = descriptor_pb2.FieldDescriptorProto.TYPE_STRING, 3
    method = proto.message_type.add(name="SupportedMethod")
    method.field.add(name="method_name", number=1, type=string, label=1)
    method.field.add(name="service_name", number=2, type=string, label=1)
    method.field.add(name="features", number=3, type=string, label=repeated)
    methods = proto.message_type.add(name="SupportedMethods")
    methods.field.add(
        name="methods",
        number=1,
        type=descriptor_pb2.FieldDescriptorProto.TYPE_MESSAGE,
        type_name=".event_store.client.server_features.SupportedMethod",
        label=repeated,
    )
    methods.field.add(name="event_store_server_version", number=2, type=string, label=1)
    pool = descriptor_pool.DescriptorPool()
    pool.Add(proto)
    return (
        message_factory.GetMessageClass(
            pool.FindMessageTypeByName("event_store.client.server_features.SupportedMethods")
        ),
        message_factory.GetMessageClass(
            pool.FindMessageTypeByName("event_store.client.server_features.SupportedMethod")
        ),
    )


def supported_methods() -> bytes:
    """The serialized `SupportedMethods` reply (names lowercased, as KurrentDB sends them)."""
    methods_class, method_class = _message_classes()
    reply: Any = methods_class(event_store_server_version=SERVER_VERSION)
    for service, names in SUPPORTED.items():
        for name in names:
            method = method_class(method_name=name.lower(), service_name=service.lower())
            reply.methods.append(method)
    serialized: bytes = reply.SerializeToString()
    return serialized


def server_features_handler() -> grpc.GenericRpcHandler:
    reply = supported_methods()

    def get_supported_methods(request: bytes, context: grpc.ServicerContext) -> bytes:
        return reply

    return grpc.method_handlers_generic_handler(
        SERVICE,
        {
            "GetSupportedMethods": grpc.unary_unary_rpc_method_handler(
                get_supported_methods,
                request_deserializer=lambda data: data,
                response_serializer=lambda data: data,
            )
        },
    )
