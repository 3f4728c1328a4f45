import { deviceTopic } from '../libs/protocol/src';
import { ApiClient, type Fixture, balanceOf, createDevice, createFixture, eventually } from './support/api-client';
import { GatewayProcess } from './support/gateway-process';
import { TestDevice, tryConnect } from './support/test-device';
import { isScaled, itEmbeddedOnly, itScaledOnly, modeName, uniqueId } from './support/test-mode';

jest.setTimeout(60_000);

describe(`a bin deposit becomes points, exactly once — ${modeName}`, () => {
  let gateway: GatewayProcess;
  let api: ApiClient;
  const devices: TestDevice[] = [];

  async function connectDevice(fixture: Pick<Fixture, 'device'>): Promise<TestDevice> {
    const device = await TestDevice.connect({
      url: gateway.mqttUrl,
      deviceId: fixture.device.id,
      password: fixture.device.password,
      protocolVersion: isScaled ? 5 : 4,
      resendMs: 1000,
    });
    devices.push(device);
    return device;
  }

  async function deadLettersOf(deviceId: string) {
    return (
      await api.ok<{ deadLetters: { reason: string; topic: string; payloadBytes: number }[] }>(
        'GET',
        `/api/v1/dead-letters?deviceId=${deviceId}`,
      )
    ).deadLetters;
  }

  beforeAll(async () => {
    gateway = await GatewayProcess.start();
    api = new ApiClient(gateway.baseUrl);
  });

  afterAll(async () => {
    await Promise.all(devices.map((d) => d.close()));
    await gateway?.dispose();
  });

  it('credits a deposit and shows it in the balance and the ledger', async () => {
    const fixture = await createFixture(api);
    const device = await connectDevice(fixture);
    const event = device.deposit(fixture.cardUid, {
      items: [
        { kind: 'alkaline', count: 3 },
        { kind: 'lithium', count: 2 },
      ],
    });

    const ack = await device.send(event);

    // default table: alkaline 1, lithium 3 per battery
    expect(ack).toMatchObject({ eventId: event.eventId, result: 'credited', points: 9, balance: 9 });
    expect(ack.reason).toBeUndefined();
    expect(ack.display.zh).toContain('9');
    expect(ack.display.en).toContain('balance 9');
    expect(await balanceOf(api, fixture.residentId)).toBe(9);
    const { entries } = await api.ok('GET', `/api/v1/residents/${fixture.residentId}/ledger`);
    expect(entries).toHaveLength(1);
    expect(entries[0]).toMatchObject({
      amount: 9,
      balanceAfter: 9,
      source: 'device_event',
      deviceId: fixture.device.id,
      eventId: event.eventId,
    });
  });

  it('answers the same event sent 10 times with 10 identical acks and credits it once', async () => {
    const fixture = await createFixture(api);
    const device = await connectDevice(fixture);
    const event = device.deposit(fixture.cardUid);
    const first = await device.send(event);

    for (let i = 0; i < 9; i++) await device.publishRaw(deviceTopic(device.id, 'events'), JSON.stringify(event));
    const acks = await eventually(async () => (device.acksFor(event.eventId).length >= 10 ? device.acksFor(event.eventId) : undefined));

    expect(acks).toHaveLength(10);
    for (const ack of acks) expect(ack).toEqual(first);
    expect(await balanceOf(api, fixture.residentId)).toBe(first.points);
    const { entries } = await api.ok('GET', `/api/v1/residents/${fixture.residentId}/ledger`);
    expect(entries).toHaveLength(1);
  });

  it('keeps a deposit from an unknown card as pending and credits nobody', async () => {
    const fixture = await createFixture(api);
    const device = await connectDevice(fixture);

    const ack = await device.send(device.deposit('0A0B0C0D'));

    // 3 alkaline + 1 lithium by the default table: what the resident can claim later
    expect(ack).toMatchObject({ result: 'pending', reason: 'unknown-card', balance: null, points: 6 });
    expect(ack.display.zh).toContain('请到服务台登记');
    expect(await balanceOf(api, fixture.residentId)).toBe(0);
    const deviceView = await api.ok('GET', `/api/v1/devices/${device.id}`);
    expect(deviceView.eventsByResult).toEqual({ pending: 1 });
  });

  it('rejects an event that fails the schema but has a readable eventId, and credits nothing', async () => {
    const fixture = await createFixture(api);
    const device = await connectDevice(fixture);
    const bad = { ...device.deposit(fixture.cardUid), items: [{ kind: 'plutonium', count: 1 }] };

    const ack = await device.send(bad);
    expect(ack).toMatchObject({ result: 'rejected', reason: 'unknown-battery-kind', points: 0, balance: null });
    // a resend of the same bad event gets the same answer
    await device.publishRaw(deviceTopic(device.id, 'events'), JSON.stringify(bad));
    await eventually(async () => (device.acksFor(bad.eventId).length === 2 ? true : undefined));
    expect(device.acksFor(bad.eventId)[1]).toEqual(ack);
    expect(await balanceOf(api, fixture.residentId)).toBe(0);
  });

  it('answers each kind of bad deposit with its own reason, credits none of them, and keeps each one', async () => {
    const fixture = await createFixture(api);
    const device = await connectDevice(fixture);
    const good = () => device.deposit(fixture.cardUid);
    const day = 24 * 60 * 60 * 1000;
    const cases: [object, string][] = [
      [{ ...good(), items: [{ kind: 'alkaline', count: -2 }] }, 'invalid-count'],
      [{ ...good(), items: [{ kind: 'alkaline', count: 100_000 }] }, 'invalid-count'],
      [{ ...good(), weightGrams: -5 }, 'invalid-weight'],
      [{ ...good(), weightGrams: 9_999_999 }, 'invalid-weight'],
      [{ ...good(), items: [{ kind: 'nickel-cadmium', count: 1 }] }, 'unknown-battery-kind'],
      [{ ...good(), items: [] }, 'no-items'],
      [{ ...good(), occurredAt: new Date(Date.now() + 3 * day).toISOString() }, 'clock-ahead'],
      [{ ...good(), occurredAt: new Date(Date.now() - 8 * day).toISOString() }, 'too-late'],
      [{ ...good(), cardUid: 'lowercase-nope' }, 'invalid-event'],
    ];
    for (const [event, reason] of cases) {
      const ack = await device.send(event as ReturnType<typeof good>);
      expect({ reason: ack.reason, result: ack.result, points: ack.points }).toEqual({ reason, result: 'rejected', points: 0 });
      expect(ack.display.zh.length).toBeGreaterThan(0);
    }
    // A clock only an hour ahead is drift: credited at arrival time.
    const drifting = await device.send(
      device.deposit(fixture.cardUid, { occurredAt: new Date(Date.now() + 60 * 60 * 1000).toISOString() }),
    );
    expect(drifting.result).toBe('credited');
    expect(await balanceOf(api, fixture.residentId)).toBe(drifting.points);
    const view = await api.ok<{ eventsByResult: Record<string, number> }>('GET', `/api/v1/devices/${device.id}`);
    expect(view.eventsByResult).toEqual({ rejected: cases.length, credited: 1 });
  });

  it('dead-letters a payload that is not JSON, keeping its bytes', async () => {
    const fixture = await createFixture(api);
    const device = await connectDevice(fixture);

    await device.publishRaw(deviceTopic(device.id, 'events'), 'deposit 3 alkaline');

    const letters = await eventually(async () => {
      const list = await deadLettersOf(device.id);
      return list.length > 0 ? list : undefined;
    });
    expect(letters[0]).toMatchObject({ topic: deviceTopic(device.id, 'events'), payloadText: 'deposit 3 alkaline' });
    expect(letters[0]!.reason).toMatch(/^not-utf8-json/);
    expect(device.acks).toHaveLength(0);
    expect(await balanceOf(api, fixture.residentId)).toBe(0);
  });

  it('dead-letters an oversized event and credits nothing', async () => {
    const fixture = await createFixture(api);
    const device = await connectDevice(fixture);
    const huge = { ...device.deposit(fixture.cardUid), note: 'x'.repeat(9000) };

    await device.publishRaw(deviceTopic(device.id, 'events'), JSON.stringify(huge));

    const letters = await eventually(async () => {
      const list = await deadLettersOf(device.id);
      return list.length > 0 ? list : undefined;
    });
    expect(letters[0]!.reason).toMatch(/^payload-too-large: payload is \d+ bytes; the limit is 8192/);
    expect(device.acks).toHaveLength(0);
    expect(await balanceOf(api, fixture.residentId)).toBe(0);
  });

  itEmbeddedOnly('refuses a device with a wrong password', async () => {
    const fixture = await createFixture(api);
    const result = await tryConnect(gateway.mqttUrl, fixture.device.id, 'not-the-password');
    expect(result.connected).toBe(false);
    expect(result.code).toBe(4); // CONNACK: bad user name or password
    expect((await tryConnect(gateway.mqttUrl, fixture.device.id, fixture.device.password)).connected).toBe(true);
  });

  itEmbeddedOnly("refuses a publish to another device's topic, records it, and credits nobody", async () => {
    const victim = await createFixture(api);
    const intruder = await createDevice(api, victim.communityId);
    const intruderDevice = await connectDevice({ device: intruder });
    const forged = intruderDevice.deposit(victim.cardUid);

    // MQTT 3.1.1 cannot refuse one publish: the broker drops the connection instead.
    intruderDevice.publishAndForget(deviceTopic(victim.device.id, 'events'), JSON.stringify(forged));

    const letters = await eventually(async () => {
      const list = await deadLettersOf(intruder.id);
      return list.length > 0 ? list : undefined;
    });
    expect(letters[0]!.reason).toMatch(/^topic-not-allowed/);
    expect(letters[0]!.topic).toBe(deviceTopic(victim.device.id, 'events'));
    expect(await balanceOf(api, victim.residentId)).toBe(0);
    expect((await api.ok('GET', `/api/v1/devices/${victim.device.id}`)).eventsByResult).toEqual({});
  });

  itEmbeddedOnly("refuses a retained message on another device's status topic: the victim stays online", async () => {
    const victim = await createFixture(api);
    const victimDevice = await connectDevice(victim);
    await eventually(async () => {
      const view = await api.ok<{ device: { state: string } }>('GET', `/api/v1/fleet/${victimDevice.id}`);
      return view.device.state === 'online' ? true : undefined;
    });
    const intruder = await connectDevice({ device: await createDevice(api, victim.communityId) });
    // A forged retained "offline" would otherwise be what every new subscriber reads first.
    intruder.publishAndForget(deviceTopic(victim.device.id, 'status'), '{"state":"offline"}', true);

    const letters = await eventually(async () => {
      const list = await deadLettersOf(intruder.id);
      return list.length > 0 ? list : undefined;
    });
    expect(letters[0]).toMatchObject({ topic: deviceTopic(victim.device.id, 'status') });
    expect(letters[0]!.reason).toMatch(/^topic-not-allowed/);
    await new Promise((r) => setTimeout(r, 500));
    const view = await api.ok<{ device: { state: string } }>('GET', `/api/v1/fleet/${victimDevice.id}`);
    expect(view.device.state).toBe('online');
  });

  itEmbeddedOnly('refuses an inactive device at connect and disconnects it when disabled', async () => {
    const fixture = await createFixture(api);
    const device = await connectDevice(fixture);
    await device.send(device.deposit(fixture.cardUid));

    await api.ok('PATCH', `/api/v1/devices/${device.id}`, { isActive: false });

    const refused = await tryConnect(gateway.mqttUrl, fixture.device.id, fixture.device.password);
    expect(refused).toMatchObject({ connected: false, code: 5 }); // not authorised
    const before = await balanceOf(api, fixture.residentId);
    const pending = device.send(device.deposit(fixture.cardUid)).catch(() => 'no-ack');
    await new Promise((r) => setTimeout(r, 1500));
    expect(await balanceOf(api, fixture.residentId)).toBe(before);
    void pending;
  });

  itScaledOnly('answers events from an inactive device with device-inactive and credits nothing', async () => {
    const fixture = await createFixture(api);
    const device = await connectDevice(fixture);
    await api.ok('PATCH', `/api/v1/devices/${device.id}`, { isActive: false });

    const ack = await device.send(device.deposit(fixture.cardUid));

    expect(ack).toMatchObject({ result: 'rejected', reason: 'device-inactive', points: 0 });
    expect(await balanceOf(api, fixture.residentId)).toBe(0);
  });

  itScaledOnly('ignores events from a device the registry does not know, recording them', async () => {
    const fixture = await createFixture(api);
    const strangerId = uniqueId('stranger');
    const stranger = await connectDevice({ device: { id: strangerId, password: 'whatever' } });

    await stranger.publishRaw(deviceTopic(strangerId, 'events'), JSON.stringify(stranger.deposit(fixture.cardUid)));

    const letters = await eventually(async () => {
      const list = await deadLettersOf(strangerId);
      return list.length > 0 ? list : undefined;
    });
    expect(letters[0]!.reason).toMatch(/^unknown-device/);
    expect(stranger.acks).toHaveLength(0);
    expect(await balanceOf(api, fixture.residentId)).toBe(0);
  });
});
