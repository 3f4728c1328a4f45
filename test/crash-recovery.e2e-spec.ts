import type { Ack } from '../libs/protocol/src';
import { ApiClient, balanceOf, createCommunity, createDevice, createResidentWithCard, eventually } from './support/api-client';
import { GatewayProcess } from './support/gateway-process';
import { TestDevice } from './support/test-device';
import { isScaled, modeName } from './support/test-mode';

jest.setTimeout(180_000);

describe(`a gateway killed with events in flight — ${modeName}`, () => {
  let gateway: GatewayProcess;
  const devices: TestDevice[] = [];

  afterAll(async () => {
    await Promise.all(devices.map((d) => d.close()));
    await gateway?.dispose();
  });

  it('credits every event exactly once after a SIGKILL and a restart', async () => {
    gateway = await GatewayProcess.start();
    const api = new ApiClient(gateway.baseUrl);
    const communityId = await createCommunity(api);
    const residents = await Promise.all(Array.from({ length: 5 }, (_, i) => createResidentWithCard(api, communityId, `居民${i}`)));
    const deviceCount = 4;
    const eventsPerDevice = 400;
    for (let d = 0; d < deviceCount; d++) {
      const creds = await createDevice(api, communityId);
      devices.push(
        await TestDevice.connect({
          url: gateway.mqttUrl,
          deviceId: creds.id,
          password: creds.password,
          resendMs: 500,
          ackTimeoutMs: 90_000,
          protocolVersion: isScaled ? 5 : 4,
        }),
      );
    }

    const expected = new Map<string, number>();
    const acked: Promise<Ack>[] = [];
    let sent = 0;
    const sendSome = (count: number) => {
      for (let i = 0; i < count; i++) {
        for (const device of devices) {
          const resident = residents[sent % residents.length]!;
          const event = device.deposit(resident.cardUid, { items: [{ kind: 'button', count: 1 + (sent % 5) }] });
          expected.set(resident.residentId, (expected.get(resident.residentId) ?? 0) + 1 + (sent % 5));
          acked.push(device.send(event));
          sent++;
        }
      }
    };

    sendSome(eventsPerDevice / 2);
    // Kill while the first half is still being committed and acked.
    await eventually(async () => (devices.some((d) => d.acks.length > 0) ? true : undefined), 20_000, 'first acks');
    await gateway.kill();
    const inFlight = devices.reduce((n, d) => n + d.outbox.size, 0);
    sendSome(eventsPerDevice / 2); // these wait in the devices' outboxes

    await gateway.restart();
    const acks = await Promise.all(acked.map((p) => p.catch((err: Error) => ({ error: err.message }) as never)));

    expect(inFlight).toBeGreaterThan(0); // the kill really hit events in flight
    expect(acks.every((a) => a.result === 'credited')).toBe(true);
    for (const device of devices) expect(device.outbox.size).toBe(0);
    for (const resident of residents) {
      expect(await balanceOf(api, resident.residentId)).toBe(expected.get(resident.residentId));
    }
    // one ledger entry per event, never two
    const ledgerSizes = await Promise.all(
      residents.map(
        async (r) => (await api.ok<{ entries: unknown[] }>('GET', `/api/v1/residents/${r.residentId}/ledger?limit=1000`)).entries.length,
      ),
    );
    expect(ledgerSizes.reduce((a, b) => a + b, 0)).toBe(sent);
  });
});
