import { deviceTopic } from '../libs/protocol/src';
import { ApiClient, createDevice, createFixture, eventually, type Fixture } from './support/api-client';
import { GatewayProcess } from './support/gateway-process';
import { TestDevice } from './support/test-device';
import { modeName } from './support/test-mode';

jest.setTimeout(90_000);

interface Alert {
  id: string;
  kind: 'fill-warn' | 'fill-full';
  value: number;
  openedAt: string;
  resolvedAt: string | null;
}
interface Fault {
  code: string;
  startedAt: string;
  clearedAt: string | null;
}

describe(`the bin's life: fill alerts, faults, collections — ${modeName}`, () => {
  let gateway: GatewayProcess;
  let api: ApiClient;
  let fixture: Fixture;
  const devices: TestDevice[] = [];

  beforeAll(async () => {
    gateway = await GatewayProcess.start();
    api = new ApiClient(gateway.baseUrl);
    fixture = await createFixture(api);
  });

  afterAll(async () => {
    await Promise.all(devices.map((d) => d.close()));
    await gateway?.dispose();
  });

  const newBin = async () => {
    const registered = await createDevice(api, fixture.communityId, 'bin');
    const device = await TestDevice.connectRegistered(gateway.mqttUrl, registered);
    devices.push(device);
    return device;
  };
  const telemetry = (device: TestDevice, reading: Record<string, unknown>) =>
    device.publishRaw(deviceTopic(device.id, 'telemetry'), JSON.stringify(reading));
  const alerts = async (id: string) => (await api.ok<{ open: Alert[]; alerts: Alert[] }>('GET', `/api/v1/bins/${id}/alerts`)).alerts;
  const faults = (id: string) => api.ok<{ open: Fault[]; history: Fault[] }>('GET', `/api/v1/bins/${id}/faults`);
  /** Telemetry of one device is handled in order: once this marker fault is open, everything before it is too. */
  const barrier = async (device: TestDevice, marker: string) => {
    await telemetry(device, { faults: [marker] });
    await eventually(async () => ((await faults(device.id)).open.some((f) => f.code === marker) ? true : undefined), 10_000, marker);
  };
  const report = (id: string) => api.ok('GET', `/api/v1/bins/${id}/collection-report`);

  it('opens a warn then a full alert once each, and a collection resolves them', async () => {
    const bin = await newBin();
    await telemetry(bin, { fillPercent: 85 });
    await eventually(async () => ((await alerts(bin.id)).length === 1 ? true : undefined), 10_000, 'the warn alert');
    await telemetry(bin, { fillPercent: 96 });
    await telemetry(bin, { fillPercent: 96 });
    await telemetry(bin, { fillPercent: 94 }); // hovering under full: no flap
    await telemetry(bin, { fillPercent: 97 });
    await barrier(bin, 'DOOR');

    const open = await alerts(bin.id);
    expect(open.map((a) => [a.kind, a.value, a.resolvedAt])).toEqual([
      ['fill-full', 96, null],
      ['fill-warn', 85, null],
    ]);

    const collection = await api.ok('POST', `/api/v1/bins/${bin.id}/collections`, { weightGrams: 3200, note: '周一清运' });
    expect(collection).toMatchObject({ deviceId: bin.id, source: 'api', weightGrams: 3200, actor: 'staff:bootstrap', note: '周一清运' });
    const after = await api.ok<{ open: Alert[]; alerts: Alert[] }>('GET', `/api/v1/bins/${bin.id}/alerts`);
    expect(after.open).toEqual([]);
    expect(after.alerts).toHaveLength(2);
    for (const a of after.alerts) expect(a.resolvedAt).not.toBeNull();

    // Refilled: a new warn alert, not the old one reopened.
    await telemetry(bin, { fillPercent: 5 });
    await telemetry(bin, { fillPercent: 81 });
    await barrier(bin, 'TAMPER');
    const again = await api.ok<{ open: Alert[]; alerts: Alert[] }>('GET', `/api/v1/bins/${bin.id}/alerts`);
    expect(again.open.map((a) => [a.kind, a.value])).toEqual([['fill-warn', 81]]);
    expect(again.alerts).toHaveLength(3);
  });

  it('records a JAM from when it appears until it disappears', async () => {
    const bin = await newBin();
    await telemetry(bin, { faults: ['JAM'], fillPercent: 10 });
    await eventually(async () => ((await faults(bin.id)).open.length === 1 ? true : undefined), 10_000, 'the open JAM');
    await telemetry(bin, { faults: ['JAM'] });
    await telemetry(bin, { faults: [] });
    await eventually(async () => ((await faults(bin.id)).history.length === 1 ? true : undefined), 10_000, 'the cleared JAM');

    const { open, history } = await faults(bin.id);
    expect(open).toEqual([]);
    expect(history).toHaveLength(1);
    expect(history[0]).toMatchObject({ code: 'JAM' });
    expect(Date.parse(history[0]!.clearedAt!)).toBeGreaterThanOrEqual(Date.parse(history[0]!.startedAt));
    expect(await alerts(bin.id)).toEqual([]); // 10 % full: no alert
  });

  it('flags a collection 30 % lighter than the deposits credited since the last one, not a matching one', async () => {
    const bin = await newBin();
    const deposit = async (weightGrams: number) => {
      const ack = await bin.send(bin.deposit(fixture.cardUid, { items: [{ kind: 'alkaline', count: 1 }], weightGrams }));
      expect(['credited', 'pending']).toContain(ack.result);
    };
    await deposit(1200);
    await deposit(800);
    await api.ok('POST', `/api/v1/bins/${bin.id}/collections`, { weightGrams: 2050 });
    await deposit(1500);
    await deposit(500);
    await api.ok('POST', `/api/v1/bins/${bin.id}/collections`, { weightGrams: 1400 });

    const r = await report(bin.id);
    expect(r).toMatchObject({ deviceId: bin.id, weightTolerancePercent: 10, flagged: 1 });
    expect(
      r.collections.map((c: Record<string, unknown>) => [
        c.weightCollectedGrams,
        c.weightCreditedGrams,
        c.gapGrams,
        c.gapPercent,
        c.flagged,
      ]),
    ).toEqual([
      [2050, 2000, 50, 2.5, false],
      [1400, 2000, -600, -30, true],
    ]);

    // A wider tolerance clears the flag.
    await api.ok('PATCH', `/api/v1/bins/${bin.id}/settings`, { weightTolerancePercent: 35 });
    expect((await report(bin.id)).flagged).toBe(0);
  });

  it("counts a collection reported by the bin's door sensor", async () => {
    const bin = await newBin();
    await bin.send(bin.deposit(fixture.cardUid, { items: [{ kind: 'alkaline', count: 1 }], weightGrams: 1000 }));
    const ack = await bin.send({
      eventId: `door-${Date.now()}`,
      seq: 100,
      occurredAt: new Date().toISOString(),
      type: 'collection',
      weightGrams: 990,
    });
    expect(ack).toMatchObject({ result: 'credited', points: 0 });
    const { collections } = await api.ok('GET', `/api/v1/bins/${bin.id}/collections`);
    expect(collections).toEqual([expect.objectContaining({ source: 'event', weightGrams: 990, actor: `device:${bin.id}` })]);
    expect((await report(bin.id)).collections).toEqual([
      expect.objectContaining({ source: 'event', weightCollectedGrams: 990, weightCreditedGrams: 1000, gapPercent: -1, flagged: false }),
    ]);
  });

  it('checks settings, bodies and roles', async () => {
    const bin = await newBin();
    expect(await api.ok('GET', `/api/v1/bins/${bin.id}/settings`)).toMatchObject({
      fillWarnPercent: 80,
      fillFullPercent: 95,
      weightTolerancePercent: 10,
    });
    expect((await api.request('PATCH', `/api/v1/bins/${bin.id}/settings`, { fillWarnPercent: 96 })).status).toBe(400);
    expect(await api.ok('PATCH', `/api/v1/bins/${bin.id}/settings`, { fillWarnPercent: 70, fillFullPercent: 90 })).toMatchObject({
      fillWarnPercent: 70,
      fillFullPercent: 90,
      updatedBy: 'staff:bootstrap',
    });
    expect((await api.request('POST', `/api/v1/bins/${bin.id}/collections`, { weightGrams: -5 })).body.error.code).toBe(
      'validation-failed',
    );
    expect((await api.request('GET', '/api/v1/bins/no-such-bin/alerts')).status).toBe(404);
    const terminal = await createDevice(api, fixture.communityId, 'terminal');
    expect((await api.request('GET', `/api/v1/bins/${terminal.id}/collection-report`)).status).toBe(404);

    const token = async (role: string) => {
      const user = await api.ok<{ id: string }>('POST', '/api/v1/staff', {
        name: `${role}-${Date.now()}`,
        role,
        communityId: fixture.communityId,
      });
      return (await api.ok<{ token: string }>('POST', `/api/v1/staff/${user.id}/tokens`, { label: 'e2e' })).token;
    };
    const auditor = new ApiClient(gateway.baseUrl, await token('auditor'));
    expect((await auditor.request('GET', `/api/v1/bins/${bin.id}/collection-report`)).status).toBe(200);
    expect((await auditor.request('POST', `/api/v1/bins/${bin.id}/collections`, { weightGrams: 1 })).status).toBe(403);
    const operator = new ApiClient(gateway.baseUrl, await token('operator'));
    expect((await operator.request('POST', `/api/v1/bins/${bin.id}/collections`, { weightGrams: 1 })).status).toBe(201);
  });
});
