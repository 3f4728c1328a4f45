import memory from 'aedes-persistence';
import { type RetainedPacket, type RetainedStore, withRetainedIndex } from './retained-index';

type Packet = RetainedPacket & Record<string, unknown>;

const retained = (topic: string, payload: string): Packet => ({
  cmd: 'publish',
  topic,
  payload: Buffer.from(payload),
  qos: 1,
  retain: true,
  dup: false,
  brokerId: 'b',
  brokerCounter: 1,
});

async function topicsOf(stream: NodeJS.ReadableStream): Promise<string[]> {
  const out: string[] = [];
  for await (const p of stream as AsyncIterable<Packet>) out.push(`${p.topic}=${p.payload.toString()}`);
  return out.sort();
}

/** As aedes 1.2 calls it (aedes.js, storeRetained): no callback, a promise back. */
async function storeAll(p: RetainedStore, packets: Packet[]): Promise<void> {
  const store = p.storeRetained.bind(p) as unknown as (packet: Packet) => Promise<void>;
  for (const packet of packets) await store(packet);
}

describe('retained messages indexed by topic', () => {
  const plain = memory();
  const indexed = withRetainedIndex(memory() as unknown as RetainedStore);
  const plainStore = plain as unknown as RetainedStore;
  const messages = [
    retained('jifen/v1/devices/bin-1/status', '{"state":"online"}'),
    retained('jifen/v1/devices/bin-2/status', '{"state":"online"}'),
    retained('jifen/v1/devices/bin-1/status', '{"state":"offline"}'), // replaces the first
    retained('jifen/v1/devices/bin-3/status', '{"state":"online"}'),
    retained('jifen/v1/devices/bin-3/status', ''), // clears it
  ];

  beforeAll(async () => {
    await storeAll(plainStore, messages);
    await storeAll(indexed, messages);
  });

  it.each([
    [['jifen/v1/devices/bin-1/status']],
    [['jifen/v1/devices/bin-1/acks', 'jifen/v1/devices/bin-1/commands']],
    [['jifen/v1/devices/bin-2/status', 'jifen/v1/devices/bin-1/status']],
    [['jifen/v1/devices/bin-3/status']],
    [['jifen/v1/devices/+/status']],
    [['jifen/#', 'jifen/v1/devices/bin-2/status']],
  ])('answers %j exactly as the library does', async (patterns) => {
    expect(await topicsOf(indexed.createRetainedStreamCombi(patterns))).toEqual(
      await topicsOf(plainStore.createRetainedStreamCombi(patterns)),
    );
  });

  it('gives a device its own latest retained status, and nothing for a cleared one', async () => {
    expect(await topicsOf(indexed.createRetainedStreamCombi(['jifen/v1/devices/bin-1/status']))).toEqual([
      'jifen/v1/devices/bin-1/status={"state":"offline"}',
    ]);
    expect(await topicsOf(indexed.createRetainedStreamCombi(['jifen/v1/devices/bin-3/status']))).toEqual([]);
  });
});
