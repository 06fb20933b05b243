"""Snapshots: an aggregate's state, revision and idempotency-key index, kept so that loading a
long stream reads the latest snapshot and only the events after it.

A snapshot is a cache, never a fact: it lives in its own stream, `snapshot-<stream>` (category
`snapshot`, which no projection, relay or audit follows), is written best-effort after a
command's append (never in it: a command still appends to exactly one stream), and may be lost
or ignored at any time. Replays for audits fold the events themselves and never read one.

A snapshot is used only if its schema matches this code's exactly: the state type's JSON schema
and the code of the module holding the aggregate's `evolve` are hashed into the schema, so a
change to either makes older snapshots ignored (read in full, then snapshotted afresh), never
mis-read. One that does not decode, names another stream, or whose revision no longer holds the
event it names is ignored the same way.
"""

from __future__ import annotations

import hashlib
import sys
import types
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

import orjson
from pydantic import TypeAdapter

from caseledger.domain.application.aggregates import Aggregate
from caseledger.domain.application.loading import IdempotencyRecord, IdempotencyScope, Loaded
from caseledger.domain.application.ports import NewEvent, RecordedEvent
from caseledger.domain.shared.persistent import PMap
from caseledger.domain.shared.streams import snapshot_stream as snapshot_stream

SNAPSHOT_EVENT_TYPE: Final = "caseledger.snapshot"
SNAPSHOT_FORMAT: Final = 3
"""The layout of the snapshot document below; bump it when the layout changes."""
_NAMESPACE: Final = uuid.UUID("5b0f3f8e-2c4a-4f6e-9a51-7d1c2f0e9b11")


DEFAULT_EVERY: Final = 25
"""The least gap between a stream's snapshots (in events)."""
STRETCH: Final = 2
"""The largest gap between a stream's snapshots, as a multiple of the least (`every`)."""
SPREAD: Final = 4
"""Beyond `SPREAD * every` events, a stream's snapshots are a `1/SPREAD` of its length apart."""


@dataclass(frozen=True)
class SnapshotPolicy:
    """Write a snapshot once a stream is `gap(revision)` events past its last one (`every` 0:
    never): `every` events for a stream of up to `SPREAD * every` events, then a `1/SPREAD` of
    its length, at most `STRETCH * every`. A snapshot encodes the whole state, which grows with
    the stream (its key index holds every command's key): spacing snapshots in proportion to
    the stream's length keeps what they cost per event about constant as it grows, and the cap
    keeps what a cold load folds past its snapshot bounded whatever the length."""

    every: int = DEFAULT_EVERY

    @property
    def most(self) -> int:
        """The most events a stream gets ahead of its latest snapshot (one event a command)."""
        return STRETCH * self.every

    @property
    def window(self) -> int:
        """How many of a stream's newest events a cold load reads beside its latest snapshot:
        the event at the snapshot's revision (checked against the id the snapshot names) and
        up to `most` events after it, as far as a stream gets ahead of its snapshot when each
        command appends one event (further, the load reads on from the snapshot: a second
        round trip)."""
        return self.most + 1

    def gap(self, revision: int) -> int:
        """Events between a snapshot and the next, for a stream at `revision`."""
        return min(self.most, max(self.every, (revision + 1) // SPREAD))

    def due(self, loaded: Loaded[Any]) -> bool:
        return (
            self.every > 0
            and loaded.exists
            and loaded.revision - loaded.snapshot_revision >= self.gap(loaded.revision)
        )


def encode(loaded: Loaded[Any]) -> NewEvent:
    """`loaded` as a snapshot event; the same snapshot always gets the same id. The state is
    written as JSON by its pydantic adapter directly and placed in the document as it is
    (`orjson.Fragment`): the same JSON as dumping it to Python values first, without building
    them (a state grows with its aggregate)."""
    schema = schema_of(loaded.aggregate)
    document = {
        "format": SNAPSHOT_FORMAT,
        "schema": schema,
        "stream": loaded.stream,
        "revision": loaded.revision,
        "eventId": str(loaded.last_event_id),
        "chainLink": loaded.chain_link,
        "state": orjson.Fragment(_adapter(loaded.aggregate).dump_json(loaded.state)),
        "keys": _encode_keys(loaded.keys),
    }
    metadata = {"snapshotOf": loaded.stream, "revision": loaded.revision, "schema": schema}
    return NewEvent(
        type=SNAPSHOT_EVENT_TYPE,
        data=orjson.dumps(document),
        metadata=orjson.dumps(metadata),
        id=uuid.uuid5(_NAMESPACE, f"{loaded.stream}@{loaded.revision}/{schema}"),
    )


@dataclass(frozen=True)
class Restored:
    loaded: Loaded[Any]
    event_id: uuid.UUID
    """The id of the event at `loaded.revision`: the stream must still hold it there."""


def restore(aggregate: Aggregate[Any], stream: str, newest: list[RecordedEvent]) -> Restored | None:
    """The snapshot in `newest` (the snapshot stream's last event, if any) if this code can
    use it for `stream`; None for none, another schema, or anything that does not decode."""
    if not newest or newest[0].type != SNAPSHOT_EVENT_TYPE:
        return None
    try:
        document = orjson.loads(newest[0].data)
        if (document["format"], document["schema"], document["stream"]) != (
            SNAPSHOT_FORMAT,
            schema_of(aggregate),
            stream,
        ):
            return None
        revision = int(document["revision"])
        state = _adapter(aggregate).validate_python(document["state"])
        keys = _decode_keys(document["keys"])
        event_id = uuid.UUID(document["eventId"])
        link = document["chainLink"]
        if link is not None and not isinstance(link, str):
            return None
    except Exception:  # a corrupt snapshot is no snapshot: the events are read instead
        return None
    if revision < 0:
        return None
    loaded = Loaded(aggregate, stream, state, revision, keys, revision, event_id, link)
    return Restored(loaded, event_id)


_KEY_FIELDS: Final = 7


def _encode_keys(keys: Mapping[IdempotencyScope, IdempotencyRecord]) -> dict[str, Any]:
    """The idempotency-key index, compact: one flat list of 7 values a key (actor and outcome
    as indexes into their tables in order of first use, the command id null when it is the key
    itself, the last revision as a span from the first): no inner lists, so a snapshot's size
    and parse stay proportional to its keys alone. Built a column at a time: the index grows
    with the stream."""
    scopes = list(keys)
    records = list(keys.values())
    actors = {actor: n for n, actor in enumerate(dict.fromkeys(a for a, _ in scopes))}
    outcomes = {o: n for n, o in enumerate(dict.fromkeys(r.outcome for r in records))}
    rows: list[Any] = [None] * (_KEY_FIELDS * len(scopes))
    rows[0::_KEY_FIELDS] = [actors[actor] for actor, _ in scopes]
    rows[1::_KEY_FIELDS] = [key for _, key in scopes]
    rows[2::_KEY_FIELDS] = [
        None if r.command_id == key else r.command_id
        for (_, key), r in zip(scopes, records, strict=True)
    ]
    rows[3::_KEY_FIELDS] = [r.command_digest for r in records]
    rows[4::_KEY_FIELDS] = [outcomes[r.outcome] for r in records]
    rows[5::_KEY_FIELDS] = [r.first_revision for r in records]
    rows[6::_KEY_FIELDS] = [r.last_revision - r.first_revision for r in records]
    return {"actors": list(actors), "outcomes": list(outcomes), "rows": rows}


def _decode_keys(document: dict[str, Any]) -> PMap[IdempotencyScope, IdempotencyRecord]:
    """`_encode_keys` undone; raises on anything malformed (the snapshot is then ignored)."""
    actors, outcomes, rows = document["actors"], document["outcomes"], document["rows"]
    columns = [rows[n::_KEY_FIELDS] for n in range(_KEY_FIELDS)]
    restored: dict[IdempotencyScope, IdempotencyRecord] = {}
    for actor, key, command_id, digest, outcome, first, span in zip(*columns, strict=True):
        first = int(first)
        restored[(actors[actor], key)] = IdempotencyRecord.of(
            key if command_id is None else command_id,
            digest,
            outcomes[outcome],
            (),
            first,
            first + int(span),
        )
    return PMap(restored)


_ADAPTERS: dict[str, TypeAdapter[Any]] = {}
_SCHEMAS: dict[str, str] = {}


def _adapter(aggregate: Aggregate[Any]) -> TypeAdapter[Any]:
    adapter = _ADAPTERS.get(aggregate.name)
    if adapter is None:
        adapter = _ADAPTERS[aggregate.name] = TypeAdapter(type(aggregate.initial_state()))
    return adapter


def schema_of(aggregate: Aggregate[Any]) -> str:
    """`<aggregate>:<hash>` over the state's JSON schema and the code of `evolve`'s module."""
    schema = _SCHEMAS.get(aggregate.name)
    if schema is None:
        parts = [orjson.dumps(_adapter(aggregate).json_schema(), option=orjson.OPT_SORT_KEYS)]
        parts += [p.encode() for p in _module_code(aggregate.evolve.__module__)]
        digest = hashlib.sha256(b"\0".join(parts)).hexdigest()[:16]
        schema = _SCHEMAS[aggregate.name] = f"{aggregate.name}:{digest}"
    return schema


def _module_code(module_name: str) -> list[str]:
    """What the module's functions do (bytecode, names, constants), without line numbers or
    anything that differs between processes, so every process agrees."""
    module = sys.modules[module_name]
    out: list[str] = []
    for name, value in sorted(vars(module).items()):
        if isinstance(value, types.FunctionType) and value.__module__ == module_name:
            out.append(name)
            _code(value.__code__, out)
    return out


def _code(code: types.CodeType, out: list[str]) -> None:
    out += [code.co_code.hex(), repr(code.co_names), repr(code.co_varnames)]
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            _code(const, out)
        elif isinstance(const, frozenset):
            out.append(repr(sorted(repr(c) for c in const)))
        else:
            out.append(repr(const))
