import type { DeadLetterInput, IngestAck, IngestItem, IngestRepository } from '../../../../libs/persistence/src';
import type { Logger } from '../logging/logger';
import type { DeadLetterWriter } from './dead-letter.writer';
import { DeviceLivenessTracker } from './device-liveness';
import { type AckSink, IngestService } from './ingest.service';
import type { DeviceMessage } from './mqtt-ingest.server';

const silent = { info: () => undefined, warn: () => undefined, error: () => undefined, debug: () => undefined } as unknown as Logger;

function message(deviceId: string, payload: unknown): DeviceMessage {
  return {
    deviceId,
    channel: 'events',
    topic: `jifen/v1/devices/${deviceId}/events`,
    payload: Buffer.from(typeof payload === 'string' ? payload : JSON.stringify(payload)),
    receivedAt: new Date('2026-11-23T08:00:00.000Z'),
    isRetained: false,
  };
}

function deposit(eventId: string) {
  return {
    eventId,
    seq: 1,
    occurredAt: '2026-11-23T07:59:59.000Z',
    type: 'deposit',
    cardUid: 'A1B2C3D4',
    items: [{ kind: 'alkaline', count: 2 }],
  };
}

/** Records the order of what happens: commits, acks, dead letters. */
function harness(commit: (items: IngestItem[]) => Promise<IngestAck[]>) {
  const log: string[] = [];
  const letters: DeadLetterInput[] = [];
  const repository = {
    commitBatch: async (items: IngestItem[]) => {
      log.push(`commit ${items.length}`);
      const acks = await commit(items);
      log.push('committed');
      return acks;
    },
  } as unknown as IngestRepository;
  const acks: AckSink = {
    publish: (topic, payload) => {
      log.push(`ack ${topic} ${payload}`);
      return Promise.resolve();
    },
  };
  const deadLetters = {
    write: (l: DeadLetterInput) => {
      letters.push(l);
      log.push(`dead-letter ${l.reason}`);
    },
    flush: () => Promise.resolve(),
  } as unknown as DeadLetterWriter;
  const service = new IngestService(repository, acks, deadLetters, new DeviceLivenessTracker(), silent, {
    maxBatch: 10,
    maxWaitMs: 0,
    maxQueue: 100,
    retryDelaysMs: [1, 1],
  });
  return { service, log, letters };
}

const ackFor = (item: IngestItem): IngestAck => {
  const eventId = item.kind === 'valid' ? item.event.eventId : item.eventId;
  return { deviceId: item.deviceId, eventId, ack: `{"eventId":"${eventId}"}`, isRepeat: false };
};

describe('IngestService', () => {
  it('publishes an ack only after its batch is committed', async () => {
    const { service, log } = harness((items) => Promise.resolve(items.map(ackFor)));
    await service.receiveEvent(message('bin-1', deposit('e1')));
    await service.drain();
    expect(log).toEqual(['commit 1', 'committed', 'ack jifen/v1/devices/bin-1/acks {"eventId":"e1"}']);
  });

  it('commits a schema-invalid event with a readable eventId as an invalid item', async () => {
    const seen: IngestItem[] = [];
    const { service } = harness((items) => {
      seen.push(...items);
      return Promise.resolve(items.map(ackFor));
    });
    await service.receiveEvent(message('bin-1', { ...deposit('e2'), items: [] }));
    await service.drain();
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatchObject({ kind: 'invalid', deviceId: 'bin-1', eventId: 'e2' });
    expect((seen[0] as { problem: string }).problem).toContain('items');
  });

  it('dead-letters bytes that are not JSON, without committing anything', async () => {
    const { service, log, letters } = harness(() => Promise.reject(new Error('must not be called')));
    await service.receiveEvent(message('bin-1', '{"eventId": "e3", '));
    await service.drain();
    expect(log).toEqual(['dead-letter ' + letters[0]!.reason]);
    expect(letters[0]!.reason).toMatch(/^not-utf8-json/);
    expect(letters[0]!.payload.toString()).toBe('{"eventId": "e3", ');
  });

  it('dead-letters events of devices the registry does not know, and acks the rest', async () => {
    const { service, log } = harness((items) => Promise.resolve(items.filter((i) => i.deviceId !== 'ghost').map(ackFor)));
    await service.receiveEvent(message('ghost', deposit('g1')));
    await service.receiveEvent(message('bin-1', deposit('e4')));
    await service.drain();
    expect(log).toContain('dead-letter unknown-device: not in the registry');
    expect(log.filter((l) => l.startsWith('ack '))).toEqual(['ack jifen/v1/devices/bin-1/acks {"eventId":"e4"}']);
  });

  it('retries a failed commit and acks once it succeeds', async () => {
    let calls = 0;
    const { service, log } = harness((items) =>
      ++calls < 3 ? Promise.reject(new Error('connection reset')) : Promise.resolve(items.map(ackFor)),
    );
    await service.receiveEvent(message('bin-1', deposit('e5')));
    await service.drain();
    expect(calls).toBe(3); // two retries, as configured
    expect(log.filter((l) => l.startsWith('ack '))).toHaveLength(1);
  });

  it('splits a batch that keeps failing so one poisonous event cannot hold back the rest', async () => {
    const { service, log, letters } = harness((items) =>
      items.some((i) => i.kind === 'valid' && i.event.eventId === 'poison')
        ? Promise.reject(new Error('value out of range'))
        : Promise.resolve(items.map(ackFor)),
    );
    await Promise.all(['a', 'poison', 'b', 'c'].map((id) => service.receiveEvent(message('bin-1', deposit(id)))));
    await service.drain();
    const acked = log.filter((l) => l.startsWith('ack ')).map((l) => /"eventId":"(\w+)"/.exec(l)![1]);
    expect(acked.sort()).toEqual(['a', 'b', 'c']);
    expect(letters).toHaveLength(1);
    expect(letters[0]!.reason).toMatch(/^commit-failed/);
    expect(JSON.parse(letters[0]!.payload.toString()).eventId).toBe('poison');
  });

  describe('resends', () => {
    it('drops a resend of an event still queued: one commit, one ack', async () => {
      let release!: () => void;
      const gate = new Promise<void>((resolve) => (release = resolve));
      const { service, log } = harness(async (items) => {
        await gate;
        return items.map(ackFor);
      });
      await service.receiveEvent(message('bin-1', deposit('r1')));
      await service.receiveEvent(message('bin-1', deposit('r1'))); // the device resent before its ack came
      release();
      await service.drain();
      expect(log.filter((l) => l.startsWith('commit '))).toEqual(['commit 1']);
      expect(log.filter((l) => l.startsWith('ack '))).toHaveLength(1);
      expect(service.stats.resendsDropped).toBe(1);
    });

    it('answers a resend of an acked event with the same bytes, without the database', async () => {
      let commits = 0;
      const { service, log } = harness((items) => {
        commits++;
        return Promise.resolve(items.map((i) => ({ ...ackFor(i), ack: `{"eventId":"${ackFor(i).eventId}","n":${commits}}` })));
      });
      await service.receiveEvent(message('bin-1', deposit('r2')));
      await service.drain();
      await service.receiveEvent(message('bin-1', deposit('r2')));
      await service.drain();
      const acks = log.filter((l) => l.startsWith('ack '));
      expect(commits).toBe(1);
      expect(acks).toEqual([
        'ack jifen/v1/devices/bin-1/acks {"eventId":"r2","n":1}',
        'ack jifen/v1/devices/bin-1/acks {"eventId":"r2","n":1}',
      ]);
      expect(service.stats.resendsAnsweredFromMemory).toBe(1);
    });

    it('judges a resend again when the first copy could not be stored', async () => {
      let calls = 0;
      const { service, log, letters } = harness((items) =>
        ++calls <= 3 ? Promise.reject(new Error('disk full')) : Promise.resolve(items.map(ackFor)),
      );
      await service.receiveEvent(message('bin-1', deposit('r3')));
      await service.drain();
      expect(letters.map((l) => l.reason)).toEqual([expect.stringMatching(/^commit-failed/)]);
      await service.receiveEvent(message('bin-1', deposit('r3')));
      await service.drain();
      expect(log.filter((l) => l.startsWith('ack '))).toEqual(['ack jifen/v1/devices/bin-1/acks {"eventId":"r3"}']);
      expect(service.stats.resendsDropped + service.stats.resendsAnsweredFromMemory).toBe(0);
    });

    it('does not answer another device’s event of the same id from memory', async () => {
      const { service, log } = harness((items) => Promise.resolve(items.map(ackFor)));
      await service.receiveEvent(message('bin-1', deposit('same')));
      await service.drain();
      await service.receiveEvent(message('bin-2', deposit('same')));
      await service.drain();
      expect(log.filter((l) => l.startsWith('commit '))).toEqual(['commit 1', 'commit 1']);
    });
  });
});
