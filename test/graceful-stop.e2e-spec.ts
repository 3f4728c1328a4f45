import type { Ack } from '../libs/protocol/src';
import { ApiClient, balanceOf, createCommunity, createDevice, createResidentWithCard, eventually } from './support/api-client';
import { GatewayProcess, TEST_ADMIN_TOKEN } from './support/gateway-process';
import { TestDevice } from './support/test-device';
import { isScaled, modeName } from './support/test-mode';

jest.setTimeout(120_000);

/** One gauge or counter of GET /metrics, summed over its labels. */
async function metric(gateway: GatewayProcess, name: string): Promise<number> {
  const res = await fetch(`${gateway.baseUrl}/metrics`, { headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}` } });
  const text = await res.text();
  return text
    .split('\n')
    .filter((line) => line.startsWith(`${name} `) || line.startsWith(`${name}{`))
    .reduce((sum, line) => sum + Number(line.slice(line.lastIndexOf(' ') + 1)), 0);
}

describe(`a gateway stopped with events queued — ${modeName}`, () => {
  let gateway: GatewayProcess;
  let device: TestDevice | undefined;

  afterAll(async () => {
    await device?.close();
    await gateway?.dispose();
  });

  it('commits and acks what it had taken before it exits on SIGTERM', async () => {
    // Events wait up to a second for their batch: long enough to stop the gateway while they wait.
    gateway = await GatewayProcess.start({ env: { INGEST_MAX_WAIT_MS: '1000', INGEST_MAX_BATCH: '5000' } });
    const api = new ApiClient(gateway.baseUrl);
    const communityId = await createCommunity(api);
    const resident = await createResidentWithCard(api, communityId);
    const creds = await createDevice(api, communityId);
    // No resend within the test: every ack must come from the drain.
    device = await TestDevice.connect({
      url: gateway.mqttUrl,
      deviceId: creds.id,
      password: creds.password,
      resendMs: 600_000,
      ackTimeoutMs: 30_000,
      protocolVersion: isScaled ? 5 : 4,
    });

    const count = 200;
    const acked: Promise<Ack>[] = [];
    for (let i = 0; i < count; i++) acked.push(device.send(device.deposit(resident.cardUid, { items: [{ kind: 'button', count: 1 }] })));
    await eventually(
      async () => ((await metric(gateway, 'jifen_ingest_queue_depth')) === count ? true : undefined),
      5000,
      'every event queued',
    );
    const stopped = gateway.stop();
    expect(device.acks).toHaveLength(0); // none committed yet: the drain does it

    const acks = await Promise.all(acked);
    expect(acks.map((a) => a.result)).toEqual(Array(count).fill('credited'));
    const exit = await stopped;
    expect(exit.code).toBe(0);
    // Acks published after the link closed would fail with this and reach devices only as resends.
    expect(exit.stdout).not.toContain('ack not published');

    await gateway.restart();
    expect(await balanceOf(api, resident.residentId)).toBe(count); // a button press is a point, credited once
  });
});
