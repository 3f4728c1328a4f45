import { ApiClient, createCommunity, createDevice, createResidentWithCard } from './support/api-client';
import { GatewayProcess, TEST_ADMIN_TOKEN } from './support/gateway-process';
import { TestDevice } from './support/test-device';
import { isScaled, modeName } from './support/test-mode';

jest.setTimeout(90_000);

/** Default points table: 3 alkaline (1 each) + 1 lithium (3) = 6 per TestDevice deposit. */
const DEPOSIT = 6;

describe(`statements, the reconciliation and leaderboards — ${modeName}`, () => {
  let gateway: GatewayProcess;
  let api: ApiClient;
  let device: TestDevice | undefined;
  let communityId: string;
  let alice: string;
  let bob: string;
  const from = new Date(Date.now() - 24 * 3600_000).toISOString();
  const to = new Date(Date.now() + 24 * 3600_000).toISOString();
  const period = `from=${encodeURIComponent(from)}&to=${encodeURIComponent(to)}`;

  beforeAll(async () => {
    gateway = await GatewayProcess.start();
    api = new ApiClient(gateway.baseUrl);
    communityId = await createCommunity(api, '海港社区');
    const a = await createResidentWithCard(api, communityId, '王小明');
    const b = await createResidentWithCard(api, communityId, '李华');
    alice = a.residentId;
    bob = b.residentId;
    const bin = await createDevice(api, communityId);
    device = await TestDevice.connect({
      url: gateway.mqttUrl,
      deviceId: bin.id,
      password: bin.password,
      protocolVersion: isScaled ? 5 : 4,
    });
    for (const card of [a.cardUid, a.cardUid, b.cardUid]) expect((await device.send(device.deposit(card))).result).toBe('credited');
    expect((await device.send(device.deposit('0A0B0C0D'))).reason).toBe('unknown-card');
    expect((await device.send({ ...device.deposit(a.cardUid), items: [{ kind: 'plutonium', count: 1 }] })).reason).toBe(
      'unknown-battery-kind',
    );
    // A bin whose clock jumped to next year: refused, not credited, counted by its reason.
    const nextYear = new Date(Date.now() + 365 * 24 * 60 * 60 * 1000).toISOString();
    expect((await device.send(device.deposit(a.cardUid, { occurredAt: nextYear }))).reason).toBe('clock-ahead');
    // alice: a manual credit of 5, reversed
    const credit = await api.ok('POST', `/api/v1/residents/${alice}/credits`, { amount: 5, reason: '志愿服务' });
    await api.ok('POST', `/api/v1/ledger/entries/${credit.entry.id}/reverse`, { reason: '误记' });
    // bob: pending 7 (stays pending) and pending 3 (settled)
    await api.ok('POST', `/api/v1/residents/${bob}/credits`, { amount: 7, reason: '活动签到', pending: true });
    const three = await api.ok('POST', `/api/v1/residents/${bob}/credits`, { amount: 3, reason: '活动签到', pending: true });
    await api.ok('POST', '/api/v1/ledger/pending/settle', { entryIds: [three.entry.id], reason: '审核通过' });
  });

  afterAll(async () => {
    await device?.close();
    await gateway?.dispose();
  });

  it('reconciles each resident and the total, and counts the device events', async () => {
    const r = await api.ok('GET', `/api/v1/communities/${communityId}/reconciliation?${period}`);
    expect(r.ok).toBe(true);
    const byId = new Map<string, any>(r.residents.map((x: any) => [x.residentId, x]));
    expect(byId.get(alice)).toMatchObject({
      name: '王小明',
      opening: 0,
      earned: 2 * DEPOSIT + 5,
      adjustments: -5,
      redeemed: 0,
      closing: 2 * DEPOSIT,
      balance: 2 * DEPOSIT,
      closingPending: 0,
      problems: [],
    });
    expect(byId.get(bob)).toMatchObject({
      earned: DEPOSIT + 3,
      adjustments: 0,
      closing: DEPOSIT + 3,
      balance: DEPOSIT + 3,
      pendingAdded: 10,
      pendingSettled: 3,
      pendingVoided: 0,
      closingPending: 7,
      pendingPoints: 7,
      problems: [],
    });
    for (const x of r.residents) {
      expect(x.opening + x.earned - x.redeemed - x.giftedOut + x.giftedIn - x.expired + x.adjustments).toBe(x.closing);
    }
    expect(r.total).toMatchObject({
      residents: 2,
      residentsWithProblems: 0,
      earned: 3 * DEPOSIT + 8,
      adjustments: -5,
      closing: 3 * DEPOSIT + 3,
    });
    expect(r.events).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ result: 'credited', reason: null, count: 3 }),
        expect.objectContaining({ result: 'pending', reason: 'unknown-card', count: 1 }),
        expect.objectContaining({ result: 'rejected', reason: 'unknown-battery-kind', count: 1 }),
        expect.objectContaining({ result: 'rejected', reason: 'clock-ahead', count: 1 }),
      ]),
    );
    expect(r.eventsTotal).toBe(6);
  });

  it('shows an earlier quarter as empty, with the opening of today equal to the closing', async () => {
    const past = await api.ok('GET', `/api/v1/communities/${communityId}/reconciliation?from=2020-01-01&to=2020-04-01`);
    expect(past.total).toMatchObject({ opening: 0, earned: 0, closing: 0, entries: 0 });
    expect(past.eventsTotal).toBe(0);
    const later = await api.ok('GET', `/api/v1/communities/${communityId}/reconciliation?from=${encodeURIComponent(to)}&to=2099-01-01`);
    expect(later.total).toMatchObject({ opening: 3 * DEPOSIT + 3, earned: 0, closing: 3 * DEPOSIT + 3, openingPending: 7 });
  });

  it('gives the reconciliation as a CSV Excel opens right: BOM, CRLF, quoted fields, Chinese names', async () => {
    for (const [query, headers] of [
      [`${period}&format=csv`, {}],
      [period, { accept: 'text/csv' }],
    ] as const) {
      const res = await fetch(`${gateway.baseUrl}/api/v1/communities/${communityId}/reconciliation?${query}`, {
        headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}`, ...headers },
      });
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/^text\/csv; charset=utf-8/);
      const bytes = Buffer.from(await res.arrayBuffer());
      expect([...bytes.subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
      const text = bytes.subarray(3).toString('utf8');
      const lines = text.split('\r\n');
      expect(text.replace(/\r\n/g, '')).not.toContain('\n');
      expect(lines[1]).toContain('"姓名 name"');
      const aliceRow = lines.find((l) => l.includes('"王小明"'))!;
      expect(aliceRow).toContain(`"${alice}","王小明"`);
      expect(aliceRow.endsWith('"OK"')).toBe(true);
      expect(lines.some((l) => l.startsWith('"合计 TOTAL","2 居民 residents"'))).toBe(true);
      expect(lines).toContain('"","pending","unknown-card","1","6"');
    }
  });

  it("prints a resident's statement with signed amounts and balances", async () => {
    const s = await api.ok('GET', `/api/v1/residents/${alice}/statement?${period}`);
    expect(s).toMatchObject({ openingBalance: 0, closingBalance: 2 * DEPOSIT, currentBalance: 2 * DEPOSIT, closingPendingPoints: 0 });
    expect(s.lines.map((l: any) => [l.source, l.amount, l.balanceAfter])).toEqual([
      ['device_event', DEPOSIT, DEPOSIT],
      ['device_event', DEPOSIT, 2 * DEPOSIT],
      ['manual', 5, 2 * DEPOSIT + 5],
      ['reversal', -5, 2 * DEPOSIT],
    ]);
    expect(s.lines[3].counterparty).toBe(`issuance:${communityId}`);
    const b = await api.ok('GET', `/api/v1/residents/${bob}/statement?${period}`);
    expect(b.lines.map((l: any) => [l.kind, l.amount, l.pendingChange])).toEqual([
      ['posted', DEPOSIT, 0],
      ['pending', 0, 7],
      ['pending', 0, 3],
      ['settle', 3, -3],
    ]);
    expect(b).toMatchObject({ closingBalance: DEPOSIT + 3, closingPendingPoints: 7 });
  });

  it('ranks residents by points earned, net of reversals', async () => {
    const l = await api.ok('GET', `/api/v1/communities/${communityId}/leaderboards?${period}&limit=5`);
    expect(l.residents.map((x: any) => [x.rank, x.id, x.points])).toEqual([
      [1, alice, 2 * DEPOSIT],
      [2, bob, DEPOSIT + 3],
    ]);
    const top1 = await api.ok('GET', `/api/v1/communities/${communityId}/leaderboards?${period}&limit=1`);
    expect(top1.residents).toHaveLength(1);
  });

  it('rolls points up by household (诚信家庭) and building (诚信楼宇), ties by id', async () => {
    const community = await createCommunity(api, '楼宇社区');
    const building = (name: string) => api.ok<{ id: string }>('POST', `/api/v1/communities/${community}/buildings`, { name });
    const household = (name: string, buildingId: string) =>
      api.ok<{ id: string }>('POST', `/api/v1/communities/${community}/households`, { name, buildingId });
    const resident = async (name: string, householdId: string, points: number) => {
      const r = await api.ok<{ id: string }>('POST', '/api/v1/residents', { communityId: community, name });
      await api.ok('POST', `/api/v1/residents/${r.id}/move`, { householdId });
      await api.ok('POST', `/api/v1/residents/${r.id}/credits`, { amount: points, reason: 'volunteer' });
      return r.id;
    };
    const b1 = await building('1号楼');
    const b2 = await building('2号楼');
    const h101 = await household('1-101', b1.id);
    const h102 = await household('1-102', b1.id);
    const h201 = await household('2-201', b2.id);
    await resident('甲', h101.id, 5);
    await resident('乙', h101.id, 4); // 1-101: 9
    await resident('丙', h102.id, 2); // 1-102: 2 → building 1: 11
    await resident('丁', h201.id, 10); // 2-201: 10 → building 2: 10
    const l = await api.ok('GET', `/api/v1/communities/${community}/leaderboards?${period}&limit=5`);
    expect(l.households.map((x: any) => [x.rank, x.name, x.points, x.residents])).toEqual([
      [1, '2-201', 10, 1],
      [2, '1-101', 9, 2],
      [3, '1-102', 2, 1],
    ]);
    expect(l.buildings.map((x: any) => [x.rank, x.name, x.points])).toEqual([
      [1, '1号楼', 11],
      [2, '2号楼', 10],
    ]);
  });

  it('refuses a bad period with the field named', async () => {
    const res = await api.request('GET', `/api/v1/communities/${communityId}/reconciliation?from=2026-04-01&to=2026-01-01`);
    expect(res.status).toBe(400);
    expect(JSON.stringify(res.body)).toContain('from must be before to');
    expect((await api.request('GET', `/api/v1/residents/${alice}/statement?from=yesterday&to=2026-01-01`)).status).toBe(400);
  });
});
