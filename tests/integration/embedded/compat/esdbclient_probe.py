"""Runs under esdbclient 1.1.7 in its own venv (it pins grpcio<1.72, so it cannot share the
project's environment). Drives the store at argv[1] and prints what it saw as JSON."""

import json
import sys
import uuid

from esdbclient import EventStoreDBClient, NewEvent, StreamState
from esdbclient.exceptions import NotFound, StreamIsDeleted, WrongCurrentVersion

client = EventStoreDBClient(uri=sys.argv[1])
stream = f"case-{uuid.uuid4().hex[:8]}"
seen = {}
first = NewEvent(type="case.opened", data=b'{"n": 1}', metadata=b'{"$correlationId": "c1"}')
seen["position"] = client.append_to_stream(
    stream, current_version=StreamState.NO_STREAM, events=first
)
client.append_to_stream(
    stream,
    current_version=0,
    events=[NewEvent(type="case.noted", data=b"2"), NewEvent(type="case.noted", data=b"3")],
)
seen["repeat_position"] = client.append_to_stream(
    stream, current_version=StreamState.NO_STREAM, events=first
)
try:
    client.append_to_stream(stream, current_version=0, events=[NewEvent(type="x", data=b"")])
    seen["wrong_version"] = "no error"
except WrongCurrentVersion as error:
    seen["wrong_version"] = type(error).__name__
events = client.get_stream(stream)
seen["revisions"] = [e.stream_position for e in events]
seen["types"] = [e.type for e in events]
seen["metadata"] = events[0].metadata.decode()
seen["all_types"] = [e.type for e in client.read_all() if e.stream_name == stream]
subscription = client.subscribe_to_all(filter_include=[stream], filter_by_stream_name=True)
seen["subscribed"] = [next(subscription).type for _ in range(3)]
subscription.stop()
client.delete_stream(stream, current_version=2)
try:
    client.get_stream(stream)
    seen["after_delete"] = "readable"
except NotFound:
    seen["after_delete"] = "NotFound"
seen["version_after_delete"] = str(client.get_current_version(stream))
try:
    client.delete_stream(stream, current_version=StreamState.EXISTS)
    seen["delete_again_exists"] = "no error"
except StreamIsDeleted as error:
    seen["delete_again_exists"] = type(error).__name__
client.delete_stream(stream, current_version=StreamState.ANY)
client.delete_stream(stream, current_version=2)
try:
    client.append_to_stream(stream, current_version=5, events=NewEvent(type="x", data=b""))
    seen["recreate_wrong_version"] = "no error"
except WrongCurrentVersion as error:
    seen["recreate_wrong_version"] = type(error).__name__
client.append_to_stream(
    stream, current_version=StreamState.NO_STREAM, events=NewEvent(type="case.reopened", data=b"")
)
seen["recreated"] = [e.stream_position for e in client.get_stream(stream)]
seen["recreated_metadata"] = list(client.get_stream_metadata(stream))
client.tombstone_stream(stream, current_version=StreamState.ANY)
try:
    client.delete_stream(stream, current_version=StreamState.ANY)
    seen["delete_tombstoned"] = "no error"
except StreamIsDeleted as error:
    seen["delete_tombstoned"] = type(error).__name__
seen["gossip"] = [m.state for m in client.read_gossip()]
client.close()
print(json.dumps(seen))
