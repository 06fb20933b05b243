// Drives the store at argv[2] (a kurrentdb:// connection string) with the official KurrentDB
// Node.js client and prints what it saw as one JSON object; test_node_client.py judges it.
// Reads go through the client's native (Rust) bridge, appends and deletes through grpc-js.
import { randomUUID } from "node:crypto";
import {
  BACKWARDS,
  END,
  KurrentDBClient,
  NO_STREAM,
  START,
  STREAM_EXISTS,
  STREAM_STATE,
  jsonEvent,
  streamNameFilter,
} from "@kurrent/kurrentdb-client";

const client = KurrentDBClient.connectionString(process.argv[2]);
const prefix = `case-${randomUUID().slice(0, 8)}`;
const stream = `${prefix}-a`;
const later = `${prefix}-b`;
const seen = {};
const event = (type, n) => jsonEvent({ type, data: { n } });
const failure = (error) => ({ name: error.constructor.name, message: String(error.message) });

async function outcome(action) {
  try {
    await action();
    return "ok";
  } catch (error) {
    return failure(error);
  }
}

async function revisions(name, options = {}) {
  const found = [];
  for await (const resolved of client.readStream(name, options)) {
    found.push(Number(resolved.event.revision));
  }
  return found;
}

async function appends() {
  const first = await client.appendToStream(stream, event("case.opened", 1), {
    streamState: NO_STREAM,
  });
  seen.first_revision = String(first.nextExpectedRevision);
  const next = await client.appendToStream(
    stream,
    [event("case.noted", 2), event("case.noted", 3)],
    { streamState: 0n },
  );
  seen.next_revision = String(next.nextExpectedRevision);
  try {
    await client.appendToStream(stream, event("case.noted", 4), { streamState: 0n });
    seen.wrong_version = "no error";
  } catch (error) {
    seen.wrong_version = {
      name: error.constructor.name,
      expected: String(error.expectedState),
      actual: String(error.actualState),
    };
  }
}

async function reads() {
  seen.forwards = await revisions(stream);
  seen.backwards = await revisions(stream, { direction: BACKWARDS, fromRevision: END });
  seen.backwards_from_1 = await revisions(stream, {
    direction: BACKWARDS,
    fromRevision: 1n,
    maxCount: 5,
  });
  const filtered = [];
  for await (const resolved of client.readAll({
    fromPosition: START,
    filter: streamNameFilter({ prefixes: [prefix] }),
  })) {
    filtered.push(`${resolved.event.streamId}:${resolved.event.type}`);
  }
  seen.all_filtered = filtered;
  const last = [];
  for await (const resolved of client.readAll({ direction: BACKWARDS, fromPosition: END, maxCount: 1 })) {
    last.push(resolved.event.streamId);
  }
  seen.all_backwards_last = last;
}

async function subscription() {
  // Catch up on the three events already there, then append and receive two more live.
  const subscribed = client.subscribeToAll({
    fromPosition: START,
    filter: streamNameFilter({ prefixes: [prefix] }),
  });
  const received = [];
  for await (const resolved of subscribed) {
    received.push(`${resolved.event.streamId}:${resolved.event.revision}`);
    if (received.length === 3) {
      await client.appendToStream(later, [event("case.opened", 5), event("case.noted", 6)]);
    }
    if (received.length === 5) break;
  }
  await subscribed.unsubscribe();
  seen.subscribed = received;
}

async function appendRecords() {
  // v2: the client calls these once the store's ServerFeatures lists them.
  const records = (n) => [{ streamName: later, record: event("case.noted", n) }];
  const check = (expectedState) => [{ type: STREAM_STATE, streamName: later, expectedState }];
  const result = await client.appendRecords(records(9), check(1n));
  seen.records = result.responses.map((r) => `${r.streamName}:${r.revision}`);
  seen.records_stale_check = await outcome(() => client.appendRecords(records(10), check(1n)));
  const session = await client.multiStreamAppend([
    { streamName: later, events: [event("case.noted", 11)], expectedState: 2n },
  ]);
  seen.multi_append = session.responses.map((r) => `${r.streamName}:${r.revision}`);
}

async function deletes() {
  await client.deleteStream(stream, { expectedRevision: 2n });
  seen.read_after_delete = await outcome(() => revisions(stream));
  // This client cannot send "stream exists" to Delete (it fails to serialize the request).
  seen.delete_again_any = await outcome(() => client.deleteStream(stream));
  seen.delete_again_last_revision = await outcome(() =>
    client.deleteStream(stream, { expectedRevision: 2n }),
  );
  seen.recreate_wrong_version = await outcome(() =>
    client.appendToStream(stream, event("case.reopened", 7), { streamState: 9n }),
  );
  const recreated = await client.appendToStream(stream, event("case.reopened", 7), {
    streamState: NO_STREAM,
  });
  seen.recreated_revision = String(recreated.nextExpectedRevision);
  seen.recreated = await revisions(stream);
  const metadata = await client.getStreamMetadata(stream);
  // (its metastreamRevision is the event's commit position in this client, so not compared)
  seen.recreated_truncate_before = String(metadata.metadata?.truncateBefore);
  await client.tombstoneStream(stream);
  seen.read_after_tombstone = await outcome(() => revisions(stream));
  seen.append_after_tombstone = await outcome(() =>
    client.appendToStream(stream, event("case.reopened", 8)),
  );
  seen.never_existed_delete = await outcome(() => client.deleteStream(`${prefix}-none`));
}

const deadline = setTimeout(() => {
  console.error(`gave up after 60 s; seen so far: ${JSON.stringify(seen)}`);
  process.exit(2);
}, 60_000);
try {
  await appends();
  await reads();
  await subscription();
  await appendRecords();
  await deletes();
} finally {
  clearTimeout(deadline);
  await client.dispose();
}
console.log(JSON.stringify(seen));
