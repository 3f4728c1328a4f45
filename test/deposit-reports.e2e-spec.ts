import { randomBytes } from 'node:crypto';
import { ApiClient, createDevice, createResidentWithCard } from './support/api-client';
import { GatewayProcess, TEST_ADMIN_TOKEN } from './support/gateway-process';
import { TestDevice } from './support/test-device';
import { modeName } from './support/test-mode';

jest.setTimeout(90_000);

const ZONE = 'Asia/Shanghai';
/** Points per battery of the test community: every kind its own rate, so a wrong kind shows. */
const RATES = { alkaline: 1, lithium: 3, button: 2, rechargeable: 4, other: 5 };

/** The local calendar day in Shanghai of `now` shifted by `days`. */
function shanghaiDay(days: number): string {
  return new Intl.DateTimeFormat('en-CA', { timeZone: ZONE, year: 'numeric', month: '2-digit', day: '2-digit' }).format(
    new Date(Date.now() + days * 86_400_000),
  );
}
/** An instant at a local Shanghai wall-clock time. */
const at = (day: string, time: string) => new Date(`${day}T${time}:00+08:00`).toISOString();

interface Sums {
  deposits: number;
  batteries: number;
  kinds: Record<string, number>;
  kilograms: number;
  depositsWithoutWeight: number;
  pointsIssued: number;
  pointsPending: number;
}

async function rawGet(gateway: GatewayProcess, path: string, token = TEST_ADMIN_TOKEN) {
  const res = await fetch(`${gateway.baseUrl}${path}`, { headers: { authorization: `Bearer ${token}` } });
  return { status: res.status, headers: res.headers, bytes: Buffer.from(await res.arrayBuffer()) };
}

describe(`battery deposit reports — ${modeName}`, () => {
  let gateway: GatewayProcess;
  let api: ApiClient;
  const devices: TestDevice[] = [];

  // Three days ago and two days ago, Shanghai time: well inside the lateness window.
  const d1 = shanghaiDay(-3);
  const d2 = shanghaiDay(-2);
  const from = d1;
  const to = shanghaiDay(1); // tomorrow: the rejected invalid event (no occurredAt) is placed by its receivedAt, today
  let communityId: string;
  let bin1: { id: string; password: string };
  let bin2: { id: string; password: string };

  beforeAll(async () => {
    gateway = await GatewayProcess.start();
    api = new ApiClient(gateway.baseUrl);
    communityId = (await api.ok<{ id: string }>('POST', '/api/v1/communities', { name: '报表社区', depositPointsPerUnit: RATES })).id;
    const { cardUid } = await createResidentWithCard(api, communityId, '王芳');
    bin1 = await createDevice(api, communityId);
    bin2 = await createDevice(api, communityId);
    const one = await TestDevice.connectRegistered(gateway.mqttUrl, bin1);
    const two = await TestDevice.connectRegistered(gateway.mqttUrl, bin2);
    devices.push(one, two);
    const unknownCard = `0B${randomBytes(3).toString('hex').toUpperCase()}`;

    const acks = [
      // the day before the period, one minute before its start (local midnight of d1): not counted
      await one.send(
        one.deposit(cardUid, { occurredAt: at(shanghaiDay(-4), '23:59'), items: [{ kind: 'alkaline', count: 9 }], weightGrams: 200 }),
      ),
      // d1, bin 1: 4 alkaline + 1 lithium, 140 g, credited 4*1 + 1*3 = 7
      await one.send(
        one.deposit(cardUid, {
          occurredAt: at(d1, '10:00'),
          items: [
            { kind: 'alkaline', count: 4 },
            { kind: 'lithium', count: 1 },
          ],
          weightGrams: 140,
        }),
      ),
      // d2 00:30 Shanghai (still d1 in UTC), bin 1, unknown card: 5 button cells, 10 g, pending 5*2 = 10
      await one.send(one.deposit(unknownCard, { occurredAt: at(d2, '00:30'), items: [{ kind: 'button', count: 5 }], weightGrams: 10 })),
      // d2, bin 2: 2 rechargeable, no weight (scale fault), credited 2*4 = 8
      await two.send(
        two.deposit(cardUid, { occurredAt: at(d2, '08:15'), items: [{ kind: 'rechargeable', count: 2 }], weightGrams: undefined }),
      ),
      // d2, bin 2: 2 alkaline + 1 other, 70 g, credited 2*1 + 1*5 = 7
      await two.send(
        two.deposit(cardUid, {
          occurredAt: at(d2, '21:40'),
          items: [
            { kind: 'alkaline', count: 2 },
            { kind: 'other', count: 1 },
          ],
          weightGrams: 70,
        }),
      ),
      // bin 2, invalid (an unknown kind): rejected, not counted
      await two.send({ ...two.deposit(cardUid), items: [{ kind: 'plutonium', count: 3 }] }),
    ];
    expect(acks.map((a) => [a.result, a.reason ?? null, a.points])).toEqual([
      ['credited', null, 9],
      ['credited', null, 7],
      ['pending', 'unknown-card', 10],
      ['credited', null, 8],
      ['credited', null, 7],
      ['rejected', 'unknown-battery-kind', 0],
    ]);
  });

  afterAll(async () => {
    await Promise.all(devices.map((d) => d.close()));
    await gateway?.dispose();
  });

  const kinds = (k: Partial<Record<string, number>>) => ({ alkaline: 0, lithium: 0, button: 0, rechargeable: 0, other: 0, ...k });

  // By hand, from the deposits above.
  const day1: Sums = {
    deposits: 1,
    batteries: 5,
    kinds: kinds({ alkaline: 4, lithium: 1 }),
    kilograms: 0.14,
    depositsWithoutWeight: 0,
    pointsIssued: 7,
    pointsPending: 0,
  };
  const day2: Sums = {
    deposits: 3,
    batteries: 5 + 2 + 3,
    kinds: kinds({ button: 5, rechargeable: 2, alkaline: 2, other: 1 }),
    kilograms: 0.08, // 10 g + 70 g; the rechargeable deposit has no weight
    depositsWithoutWeight: 1,
    pointsIssued: 8 + 7, // the pending deposit's 10 points are not issued
    pointsPending: 10,
  };
  const total: Sums = {
    deposits: 4,
    batteries: 15,
    kinds: kinds({ alkaline: 6, lithium: 1, button: 5, rechargeable: 2, other: 1 }),
    kilograms: 0.22,
    depositsWithoutWeight: 1,
    pointsIssued: 22,
    pointsPending: 10,
  };

  it('counts accepted deposits per local day and kind, with kilograms and points as computed by hand', async () => {
    const report = await api.ok('GET', `/api/v1/communities/${communityId}/deposit-report?from=${from}&to=${to}&groupBy=day&by=kind`);

    expect(report.timezone).toBe(ZONE);
    expect(report.from).toBe(new Date(`${from}T00:00:00+08:00`).toISOString());
    expect(report.to).toBe(new Date(`${to}T00:00:00+08:00`).toISOString());
    expect(report.rows).toEqual([
      { period: d1, ...day1 },
      { period: d2, ...day2 },
    ]);
    expect(report.total).toEqual(total);
    expect(report.rejected).toEqual([{ reason: 'unknown-battery-kind', deposits: 1, batteries: 3 }]);
    expect(report.counted.en).toContain('credited or pending');
  });

  it('splits the days per bin', async () => {
    const report = await api.ok('GET', `/api/v1/communities/${communityId}/deposit-report?from=${from}&to=${to}&by=bin`);

    expect(
      report.rows.map((r: { period: string; deviceId: string; batteries: number; kilograms: number }) => [
        r.period,
        r.deviceId,
        r.batteries,
        r.kilograms,
      ]),
    ).toEqual(
      [
        [d1, bin1.id, 5, 0.14],
        [d2, bin1.id, 5, 0.01],
        [d2, bin2.id, 5, 0.07],
      ].sort((a, b) => `${a[0]}${a[1]}`.localeCompare(`${b[0]}${b[1]}`)),
    );
    expect(report.total).toEqual(total);
  });

  it('groups by local month', async () => {
    const report = await api.ok('GET', `/api/v1/communities/${communityId}/deposit-report?from=${from}&to=${to}&groupBy=month`);

    const months = [...new Set([d1.slice(0, 7), d2.slice(0, 7)])];
    expect(report.rows.map((r: { period: string }) => r.period)).toEqual(months);
    expect(report.rows.reduce((s: number, r: Sums) => s + r.batteries, 0)).toBe(15);
    if (months.length === 1) expect(report.rows[0]).toEqual({ period: months[0], ...total });
  });

  it('writes the report as an Excel-friendly CSV: BOM, Chinese header, CRLF, quoted fields', async () => {
    const res = await rawGet(gateway, `/api/v1/communities/${communityId}/deposit-report?from=${from}&to=${to}&format=csv`);

    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/csv/);
    expect([...res.bytes.subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
    const lines = res.bytes.subarray(3).toString('utf8').split('\r\n');
    expect(lines[0]).toContain('"报表社区"');
    expect(lines[2]).toBe(
      '"日期 day","投递次数 deposits","碱性 alkaline 节 batteries","锂 lithium 节 batteries","纽扣 button 节 batteries",' +
        '"充电 rechargeable 节 batteries","其他 other 节 batteries","电池合计 batteries","重量 千克 kg",' +
        '"无重量投递 deposits without weight","已发积分 points issued","待审积分 points pending"',
    );
    expect(lines[3]).toBe(`"${d1}","1","4","1","0","0","0","5","0.14","0","7","0"`);
    expect(lines[4]).toBe(`"${d2}","3","2","0","5","2","1","10","0.08","1","15","10"`);
    expect(lines[5]).toBe('"合计 TOTAL","4","6","1","5","2","1","15","0.22","1","22","10"');
    expect(lines).toContain('"","unknown-battery-kind","1","3"');
  });

  it('gives the headline kilograms of a community and of the district', async () => {
    const headline = await api.ok('GET', `/api/v1/communities/${communityId}/deposit-headline?from=${from}&to=${to}`);
    expect(headline).toMatchObject({ kilograms: 0.22, batteries: 15, communities: 1, bins: 2 });
    expect(headline.headline.zh).toContain('共回收废旧电池 0.22 千克');
    expect(headline.headline.en).toContain('0.22 kg of batteries kept out of landfill');

    // another community's bin adds 1 alkaline of 25 g to the district
    const other = (await api.ok<{ id: string }>('POST', '/api/v1/communities', { name: '第二社区' })).id;
    const { cardUid } = await createResidentWithCard(api, other, '李雷');
    const bin3 = await createDevice(api, other);
    const three = await TestDevice.connectRegistered(gateway.mqttUrl, bin3);
    devices.push(three);
    const ack = await three.send(
      three.deposit(cardUid, { occurredAt: at(d2, '12:00'), items: [{ kind: 'alkaline', count: 1 }], weightGrams: 25 }),
    );
    expect(ack.result).toBe('credited');

    const district = await api.ok('GET', `/api/v1/deposit-headline?from=${from}&to=${to}`);
    expect(district).toMatchObject({ communityId: null, kilograms: 0.245, batteries: 16, communities: 2, bins: 3 });
    expect(district.headline.zh).toContain('0.245 千克');

    // without a period: this quarter, which holds every deposit above unless the quarter began in the last 4 days
    const quarter = await api.ok('GET', `/api/v1/communities/${communityId}/deposit-headline`);
    expect(quarter.headline.zh.startsWith('本季度共回收废旧电池')).toBe(true);
    expect(quarter.headline.en).toMatch(/kg of batteries kept out of landfill this quarter$/);
  });

  it('keeps community staff to their own community, and the district total to district staff', async () => {
    const user = await api.ok<{ id: string }>('POST', '/api/v1/staff', { name: `auditor.${Date.now()}`, role: 'auditor', communityId });
    const { token } = await api.ok<{ token: string }>('POST', `/api/v1/staff/${user.id}/tokens`, { label: 'reports' });
    const staff = new ApiClient(gateway.baseUrl, token);

    const own = await staff.request('GET', `/api/v1/communities/${communityId}/deposit-headline?from=${from}&to=${to}`);
    expect(own.status).toBe(200);
    expect(own.body.kilograms).toBe(0.22);
    const other = (await api.ok<{ id: string }>('POST', '/api/v1/communities', { name: '别的社区' })).id;
    expect((await staff.request('GET', `/api/v1/communities/${other}/deposit-report?from=${from}&to=${to}`)).status).toBe(403);
    expect((await staff.request('GET', `/api/v1/deposit-headline?from=${from}&to=${to}`)).status).toBe(403);
  });

  it('refuses a bad period with a readable error', async () => {
    const backwards = await api.request('GET', `/api/v1/communities/${communityId}/deposit-report?from=${to}&to=${from}`);
    expect(backwards.status).toBe(400);
    expect(backwards.body.error.message).toContain('from must be before to');
    const bad = await api.request('GET', `/api/v1/communities/${communityId}/deposit-report?from=2026-02-30&to=${to}`);
    expect(bad.status).toBe(400);
    expect(bad.body.error.message).toContain('from must be YYYY-MM-DD');
  });
});
