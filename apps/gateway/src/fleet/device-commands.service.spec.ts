import type { CommandResultOutcome, DeviceCommandRecord, DeviceCommandRepository } from '../../../../libs/persistence/src';
import type { DeadLetterInput } from '../../../../libs/persistence/src';
import type { DeadLetterWriter } from '../ingest/dead-letter.writer';
import type { Logger } from '../logging/logger';
import { DeviceCommandService } from './device-commands.service';

const NOW = new Date('2026-11-23T08:00:00.000Z');

function command(id: string, deviceId = 'bin-1'): DeviceCommandRecord {
  return {
    id,
    deviceId,
    name: 'reboot',
    params: {},
    status: 'queued',
    createdAt: NOW,
    createdBy: 'staff:li',
    expiresAt: new Date(NOW.getTime() + 60_000),
    sentAt: null,
    finishedAt: null,
    resultDetail: null,
  };
}

/** An in-memory queue with the repository's claim semantics: each queued command is handed out once. */
function fakeRepository(queued: DeviceCommandRecord[], outcome: CommandResultOutcome = { outcome: 'unknown-command' }) {
  const requeued: string[] = [];
  const repo = {
    claimQueued: async (deviceId: string) => {
      const mine = queued.filter((c) => c.deviceId === deviceId && c.status === 'queued');
      for (const c of mine) c.status = 'sent';
      return mine;
    },
    requeue: async (id: string) => {
      requeued.push(id);
      queued.find((c) => c.id === id)!.status = 'queued';
    },
    recordResult: async () => outcome,
    expireDue: async () => 0,
    devicesWithQueued: async () => [...new Set(queued.filter((c) => c.status === 'queued').map((c) => c.deviceId))],
  };
  return { repo: repo as unknown as DeviceCommandRepository, requeued };
}

const silent = { info: () => undefined, warn: () => undefined, error: () => undefined } as unknown as Logger;

function service(repo: DeviceCommandRepository, publish: (topic: string, payload: string) => Promise<void>) {
  const letters: DeadLetterInput[] = [];
  const deadLetters = { write: (l: DeadLetterInput) => letters.push(l) } as unknown as DeadLetterWriter;
  const s = new DeviceCommandService({ repository: repo, publish, deadLetters, isOnline: () => false, logger: silent, now: () => NOW });
  return { s, letters };
}

const flush = () => new Promise((r) => setImmediate(r));

describe('DeviceCommandService', () => {
  it('sends what waits for a device when it says it is online, once, however often it says so', async () => {
    const { repo } = fakeRepository([command('c1'), command('c2'), command('c3', 'bin-2')]);
    const sent: [string, unknown][] = [];
    const { s } = service(repo, async (topic, payload) => void sent.push([topic, JSON.parse(payload)]));
    s.sawDeviceMessage('bin-1', 'status', Buffer.from('{"state":"online"}'));
    s.sawDeviceMessage('bin-1', 'status', Buffer.from('{"state":"online"}'));
    await s.deliver('bin-1');
    expect(sent.map(([topic, p]) => [topic, (p as { commandId: string }).commandId])).toEqual([
      ['jifen/v1/devices/bin-1/commands', 'c1'],
      ['jifen/v1/devices/bin-1/commands', 'c2'],
    ]);
    expect(sent[0]![1]).toEqual({ commandId: 'c1', name: 'reboot', params: {}, expiresAt: '2026-11-23T08:01:00.000Z' });
  });

  it('does not look at the queue for an offline status or a device with nothing waiting', async () => {
    const { repo } = fakeRepository([command('c1')]);
    const sent: string[] = [];
    const { s } = service(repo, async (_t, payload) => void sent.push(payload));
    s.sawDeviceMessage('bin-1', 'status', Buffer.from('{"state":"offline"}'));
    s.sawDeviceMessage('bin-1', 'telemetry', Buffer.from('{}'));
    await flush();
    expect(sent).toEqual([]);
  });

  it('puts a command the broker did not take back in the queue', async () => {
    const queued = [command('c1')];
    const { repo, requeued } = fakeRepository(queued);
    const { s } = service(repo, async () => {
      throw new Error('not connected');
    });
    await s.deliver('bin-1');
    expect(requeued).toEqual(['c1']);
    expect(queued[0]!.status).toBe('queued');
  });

  it('turns a result that answers nothing open, or does not parse, into a dead letter', async () => {
    const { repo } = fakeRepository([], { outcome: 'already-finished', status: 'succeeded' });
    const { s, letters } = service(repo, async () => undefined);
    await s.receiveResult('bin-1', 'jifen/v1/devices/bin-1/command-results', Buffer.from('{"commandId":"c9","ok":true}'));
    await s.receiveResult('bin-1', 'jifen/v1/devices/bin-1/command-results', Buffer.from('{"ok":"yes"}'));
    expect(letters.map((l) => l.reason.split(':')[0])).toEqual(['command-already-finished', 'schema']);
  });
});
