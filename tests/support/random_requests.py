"""Random, well-formed KurrentDB requests with values from the edges of what the wire allows:
empty and huge names, system streams, invalid UTF-8, uint64 and int64 extremes, odd UUIDs,
unknown enum values, nested properties. For tests that throw many at the embedded store."""

from __future__ import annotations

import random
import uuid

from google.protobuf import struct_pb2
from kurrentdbclient.protos.v1 import shared_pb2, streams_pb2
from kurrentdbclient.protos.v2.streams import streams_pb2 as v2

NAMES = ["", "a", "case-1", "$all", "$$case-1", "$ce-case", "x" * 3000, "é\u0000", "😀", " "]
INTS = [0, 1, -1, -2, -4, -5, -6, -7, 2**63 - 1, -(2**63), 2**31]
UINTS = [0, 1, 2**63 - 1, 2**63, 2**64 - 1]


class RandomRequests:
    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)

    def name(self) -> str:
        return self.rng.choice([*NAMES, f"case-{self.rng.randint(0, 3)}"])

    def stream_id(self) -> shared_pb2.StreamIdentifier:
        raw = self.rng.choice([self.name().encode(), b"\xff\xfe", b""])
        return shared_pb2.StreamIdentifier(stream_name=raw)

    def int64(self) -> int:
        return self.rng.choice([*INTS, self.rng.randint(-10, 10**6)])

    def uint64(self) -> int:
        return self.rng.choice([*UINTS, self.rng.randint(0, 10**6)])

    def event_id(self) -> str:
        plain = str(uuid.uuid4())
        return self.rng.choice([plain, plain.upper(), "{" + plain + "}", "", "nope"])

    def value(self, depth: int = 0) -> struct_pb2.Value:
        value = struct_pb2.Value()
        kind = self.rng.randint(0, 5 if depth < 3 else 3)
        if kind == 0:
            value.string_value = self.name()
        elif kind == 1:
            value.number_value = self.rng.choice([0.0, 1.5, 1e308, float("inf"), float("nan")])
        elif kind == 2:
            value.bool_value = True
        elif kind == 3:
            value.null_value = struct_pb2.NULL_VALUE
        elif kind == 4:
            value.struct_value.fields[self.name()].CopyFrom(self.value(depth + 1))
        else:
            value.list_value.values.append(self.value(depth + 1))
        return value

    def record(self) -> v2.AppendRecord:
        record = v2.AppendRecord(stream=self.name(), data=self.rng.choice([b"", b"{}", b"\xff"]))
        if self.rng.random() < 0.7:
            record.record_id = self.event_id()
        if self.rng.random() < 0.9:
            record.schema.name = self.name()
            record.schema.format = self.rng.choice([0, 1, 2, 3, 4, 99])  # type: ignore[assignment]
        for _ in range(self.rng.randint(0, 2)):
            record.properties[self.name()].CopyFrom(self.value())
        return record

    def append_records(self) -> v2.AppendRecordsRequest:
        request = v2.AppendRecordsRequest(
            records=[self.record() for _ in range(self.rng.randint(0, 3))]
        )
        for _ in range(self.rng.randint(0, 2)):
            check = request.checks.add()
            if self.rng.random() < 0.9:
                check.stream_state.stream = self.name()
                check.stream_state.expected_state = self.int64()
        return request

    def append_session(self) -> list[v2.AppendRequest]:
        requests = []
        for _ in range(self.rng.randint(0, 3)):
            request = v2.AppendRequest(stream=self.name())
            if self.rng.random() < 0.5:
                request.expected_revision = self.int64()
            request.records.extend(self.record() for _ in range(self.rng.randint(0, 2)))
            requests.append(request)
        return requests

    def proposed(self) -> streams_pb2.AppendReq.ProposedMessage:
        message = streams_pb2.AppendReq.ProposedMessage(data=b"{}")
        if self.rng.random() < 0.5:
            message.id.string = self.event_id()
        else:
            message.id.structured.most_significant_bits = self.int64()
            message.id.structured.least_significant_bits = self.int64()
        for _ in range(self.rng.randint(0, 3)):
            message.metadata[self.rng.choice(["type", "content-type", self.name()])] = self.name()
        return message

    def append(self) -> list[streams_pb2.AppendReq]:
        options = streams_pb2.AppendReq.Options(stream_identifier=self.stream_id())
        expected = self.rng.randint(0, 4)
        if expected == 0:
            options.revision = self.uint64()
        elif expected == 1:
            options.no_stream.SetInParent()
        elif expected == 2:
            options.any.SetInParent()
        elif expected == 3:
            options.stream_exists.SetInParent()
        requests = [streams_pb2.AppendReq(options=options)] if self.rng.random() < 0.95 else []
        for _ in range(self.rng.randint(0, 3)):
            requests.append(streams_pb2.AppendReq(proposed_message=self.proposed()))
        return requests

    def read(self) -> streams_pb2.ReadReq:
        options = streams_pb2.ReadReq.Options(read_direction=self.rng.choice([0, 1, 5]))  # type: ignore[arg-type]
        if self.rng.random() < 0.5:
            options.stream.stream_identifier.CopyFrom(self.stream_id())
            where = self.rng.randint(0, 2)
            if where == 0:
                options.stream.revision = self.uint64()
            elif where == 1:
                options.stream.start.SetInParent()
            else:
                options.stream.end.SetInParent()
        elif self.rng.random() < 0.9:
            where = self.rng.randint(0, 2)
            if where == 0:
                options.all.position.commit_position = self.uint64()
                options.all.position.prepare_position = self.uint64()
            elif where == 1:
                options.all.start.SetInParent()
            else:
                options.all.end.SetInParent()
        if self.rng.random() < 0.7:
            options.count = self.uint64()
        else:
            options.subscription.SetInParent()
        if self.rng.random() < 0.3:
            options.filter.stream_identifier.regex = self.rng.choice(["(", ".*", "^case"])
            options.filter.max = self.rng.randint(0, 100)
            options.filter.checkpointIntervalMultiplier = self.rng.choice([0, 1, 2**32 - 1])
        else:
            options.no_filter.SetInParent()
        options.uuid_option.string.SetInParent()
        return streams_pb2.ReadReq(options=options)

    def delete(self) -> streams_pb2.DeleteReq:
        request = streams_pb2.DeleteReq()
        request.options.stream_identifier.CopyFrom(self.stream_id())
        if self.rng.random() < 0.5:
            request.options.revision = self.uint64()
        else:
            request.options.any.SetInParent()
        return request

    def tombstone(self) -> streams_pb2.TombstoneReq:
        request = streams_pb2.TombstoneReq()
        request.options.stream_identifier.CopyFrom(self.stream_id())
        if self.rng.random() < 0.5:
            request.options.no_stream.SetInParent()
        else:
            request.options.any.SetInParent()
        return request
