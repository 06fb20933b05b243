"""Server-side `$all` filters, as KurrentDB reads them from a ReadReq."""

from __future__ import annotations

import re
from dataclasses import dataclass

from kurrentdbclient.protos.v1 import streams_pb2

from caseledger.adapters.eventstore.embedded.records import EventRecord


class InvalidFilter(ValueError):
    """The filter cannot be used (e.g. a regex that does not compile)."""


@dataclass(frozen=True)
class EventFilter:
    """Matches on the stream name or the event type, by regex (a search, not a full match, as
    .NET's Regex.IsMatch) or by any of several prefixes."""

    on_stream_name: bool
    regex: re.Pattern[str] | None
    prefixes: tuple[str, ...]
    checkpoint_interval: int

    def matches(self, event: EventRecord) -> bool:
        subject = event.stream if self.on_stream_name else event.type
        if self.prefixes:
            return subject.startswith(self.prefixes)
        return self.regex is None or self.regex.search(subject) is not None


def parse_filter(options: streams_pb2.ReadReq.Options) -> EventFilter | None:
    if options.WhichOneof("filter_option") != "filter":
        return None
    spec = options.filter
    on_stream_name = spec.WhichOneof("filter") == "stream_identifier"
    expression = spec.stream_identifier if on_stream_name else spec.event_type
    try:
        regex = re.compile(expression.regex) if expression.regex else None
    except re.error as error:
        raise InvalidFilter(f"invalid filter regex {expression.regex!r}: {error}") from error
    window = spec.max if spec.WhichOneof("window") == "max" else 0
    multiplier = spec.checkpointIntervalMultiplier or 1
    return EventFilter(
        on_stream_name=on_stream_name,
        regex=regex,
        prefixes=tuple(expression.prefix),
        checkpoint_interval=max(window, 1) * multiplier,
    )
