import { Readable } from 'node:stream';

/** What of aedes' persistence the index wraps: the writer and the reader of retained messages. */
export interface RetainedStore {
  storeRetained(packet: RetainedPacket, cb?: (err?: Error | null) => void): unknown;
  createRetainedStreamCombi(patterns: string[]): Readable;
}

export interface RetainedPacket {
  topic: string;
  payload: Buffer | string;
}

const hasWildcard = (pattern: string) => pattern.includes('+') || pattern.includes('#');

/**
 * aedes-persistence 11's memory store answers every SUBSCRIBE by testing the
 * filter against every retained message. Each device retains its `status`
 * and subscribes to `acks` and `commands` on connect, so connecting N devices
 * cost N² topic tests: 2,000 devices took 24 s of broker CPU, 10,000 about
 * 280 s (scripts/bench, idle-fleet scenario; profile: qlobber's split/test).
 * A device's filters are exact topics (no wildcards): those are looked up in
 * an index by topic; a filter with a wildcard still takes the library's scan.
 * The index follows storeRetained, the only writer of retained messages.
 * Wraps the store in place (aedes calls these methods through it) and returns it.
 */
export function withRetainedIndex<S extends RetainedStore>(store: S): S {
  const byTopic = new Map<string, RetainedPacket>();
  const write = store.storeRetained.bind(store);
  const scan = store.createRetainedStreamCombi.bind(store);
  store.storeRetained = (packet, cb) => {
    // An empty retained payload clears the topic's retained message [MQTT-3.3.1-10].
    if (packet.payload.length === 0) byTopic.delete(packet.topic);
    else byTopic.set(packet.topic, { ...packet });
    return cb ? write(packet, cb) : write(packet);
  };
  store.createRetainedStreamCombi = (patterns) => {
    if (patterns.some(hasWildcard)) return scan(patterns);
    return Readable.from(patterns.flatMap((topic) => byTopic.get(topic) ?? []));
  };
  return store;
}
