import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type DeviceEvent } from '../libs/protocol/src';
import { type AckReceived, DeviceClient, FileOutbox, type LinkShaper, MemoryOutbox } from '../libs/protocol/src/device';
import { ApiClient, createFixture, eventually } from './support/api-client';
import { GatewayProcess } from './support/gateway-process';
import { isScaled, modeName } from './support/test-mode';

/** Records when each event publish left, and drops acks while told to. */
class RecordingLink implements LinkShaper {
  publishes: number[] = [];
  dropAcks = true;
  droppedAcks = 0;
  transmit(publish: () => void): void {
    this.publishes.push(Date.now());
    publish();
  }
  deliver(receive: () => void): void {
    if (this.dropAcks) this.droppedAcks++;
    else receive();
  }
}

function deposit(eventId: string, seq: number, cardUid: string): DeviceEvent {
  return { eventId, seq, occurredAt: new Date().toISOString(), type: 'deposit', cardUid, items: [{ kind: 'alkaline', count: 1 }] };
}

describe(`device client (libs/protocol/src/device), ${modeName}`, () => {
  jest.setTimeout(60_000);
  let gateway: GatewayProcess;
  let api: ApiClient;
  let dir: string;

  beforeAll(async () => {
    gateway = await GatewayProcess.start();
    api = new ApiClient(gateway.baseUrl);
    dir = mkdtempSync(join(tmpdir(), 'jifen-client-'));
  });

  afterAll(async () => {
    await gateway?.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  it('publishes again with a doubling backoff until an ack gets through, then stops', async () => {
    const fixture = await createFixture(api);
    const link = new RecordingLink();
    const client = new DeviceClient({
      url: gateway.mqttUrl,
      deviceId: fixture.device.id,
      password: fixture.device.password,
      protocolVersion: isScaled ? 5 : 4,
      outbox: new MemoryOutbox(),
      resend: { firstMs: 300, maxMs: 1200, factor: 2, jitter: 0 },
      resendTickMs: 20,
      telemetryIntervalMs: 0,
      link,
    });
    const acks: AckReceived[] = [];
    client.on('ack', (a) => acks.push(a));
    await client.start();
    // A reconnect replays the outbox at once (by design): the gaps below hold only without one.
    let reconnects = 0;
    client.on('connect', () => reconnects++);
    try {
      await client.send(deposit('bk-1', 1, fixture.cardUid));
      await eventually(async () => (link.publishes.length >= 5 ? true : undefined), 10_000, 'five publishes');
      const gaps = link.publishes.slice(1, 5).map((t, i) => t - link.publishes[i]!);
      expect({ reconnects, gaps }).toMatchObject({ reconnects: 0 });
      // 300, 600, 1200, then capped at 1200 (timer granularity: +- one 20 ms tick, plus a loaded machine).
      expect(gaps[0]).toBeGreaterThanOrEqual(290);
      expect(gaps[1]).toBeGreaterThanOrEqual(590);
      expect(gaps[2]).toBeGreaterThanOrEqual(1190);
      expect(gaps[3]).toBeGreaterThanOrEqual(1190);
      expect(gaps[3]).toBeLessThan(2000);
      expect(client.outboxDepth).toBe(1);

      link.dropAcks = false;
      await eventually(async () => (acks.length > 0 ? true : undefined), 10_000, 'an ack');
      expect(acks[0]).toMatchObject({ ack: { eventId: 'bk-1', result: 'credited' }, isRepeat: false });
      expect(client.outboxDepth).toBe(0);
      const count = link.publishes.length;
      await new Promise((r) => setTimeout(r, 1500));
      expect(link.publishes.length).toBe(count);
      // Every answer the gateway gave to the repeats is the same ack, byte for byte.
      expect(acks.filter((a) => a.isRepeat).every((a) => a.matchesFirst !== false)).toBe(true);
    } finally {
      await client.stop();
    }
  });

  it('replays a durable outbox left by an earlier run, oldest first, and each event is credited once', async () => {
    const fixture = await createFixture(api);
    const outboxDir = join(dir, 'replay');
    // An earlier run stored three events and died before sending them.
    const earlier = await FileOutbox.open({ dir: outboxDir });
    for (let i = 0; i < 3; i++) {
      const event = deposit(`rp-${i}`, i, fixture.cardUid);
      await earlier.add({ eventId: event.eventId, bytes: JSON.stringify(event), storedAt: Date.now() });
    }
    await earlier.close();

    const order: string[] = [];
    const outbox = await FileOutbox.open({ dir: outboxDir });
    const client = new DeviceClient({
      url: gateway.mqttUrl,
      deviceId: fixture.device.id,
      password: fixture.device.password,
      protocolVersion: isScaled ? 5 : 4,
      outbox,
      resend: { firstMs: 500, maxMs: 2000 },
      telemetryIntervalMs: 0,
    });
    client.on('ack', ({ ack, isRepeat }) => {
      if (!isRepeat) order.push(ack.eventId);
    });
    await client.start();
    try {
      await eventually(async () => (order.length === 3 ? true : undefined), 15_000, 'three acks');
      expect(order).toEqual(['rp-0', 'rp-1', 'rp-2']);
      expect(outbox.size).toBe(0);
      const resident = await api.ok<{ balance: number }>('GET', `/api/v1/residents/${fixture.residentId}`);
      expect(resident.balance).toBe(3);
    } finally {
      await client.stop();
      await outbox.close();
    }
    // Acked entries are gone from disk too.
    const after = await FileOutbox.open({ dir: outboxDir });
    expect(after.size).toBe(0);
    await after.close();
  });

  it('refuses a wrong password instead of retrying for ever', async () => {
    if (isScaled) return; // an external test broker may let anyone in; the gateway's own broker checks
    const fixture = await createFixture(api);
    const client = new DeviceClient({
      url: gateway.mqttUrl,
      deviceId: fixture.device.id,
      password: 'wrong-password',
      outbox: new MemoryOutbox(),
      telemetryIntervalMs: 0,
    });
    await expect(client.start()).rejects.toThrow(/refused device/);
    await client.stop();
  });
});
