import type { TapEvent } from '../libs/protocol/src';
import { ApiClient, balanceOf, createCommunity, createDevice, createResidentWithCard, eventually } from './support/api-client';
import { GatewayProcess } from './support/gateway-process';
import { TestDevice } from './support/test-device';
import { modeName } from './support/test-mode';

jest.setTimeout(180_000);

const MIN = 60_000;
let seq = 0;
const tap = (cardUid: string, at: number): TapEvent => ({
  eventId: `staff-tap-${++seq}`,
  seq,
  occurredAt: new Date(at).toISOString(),
  type: 'tap',
  cardUid,
});

/** Organisers' work around check-ins: set-up, refusals, review, manual entries, export, auto-close, two sites. */
describe(`activities: staff side and edge cases — ${modeName}`, () => {
  let gateway: GatewayProcess;
  let api: ApiClient;
  let communityId: string;
  let site1: string;
  let site2: string;
  let t1: TestDevice;
  let t2: TestDevice;
  const minute = () => Math.floor(Date.now() / MIN) * MIN;
  const terminals: TestDevice[] = [];
  let manualActivityId = '';
  /** A site of its own with one terminal, so that tests do not share open activities. */
  const place = async (name: string) => {
    const siteId = (await api.ok<{ id: string }>('POST', `/api/v1/communities/${communityId}/sites`, { name })).id;
    const device = await createDevice(api, communityId, 'terminal');
    await api.ok('PUT', `/api/v1/sites/${siteId}/terminals/${device.id}`);
    const terminal = await TestDevice.connectRegistered(gateway.mqttUrl, device);
    terminals.push(terminal);
    return { siteId, terminal };
  };

  const activity = (body: Record<string, unknown>) =>
    api.ok<{ id: string }>('POST', '/api/v1/activities', { communityId, categoryCode: 'C05-01', title: '助老服务', ...body });

  beforeAll(async () => {
    gateway = await GatewayProcess.start({ env: { ATTENDANCE_CLOSE_SECONDS: '1', API_RATE_LIMIT_PER_MINUTE: '100000' } });
    api = new ApiClient(gateway.baseUrl);
    communityId = await createCommunity(api, '活动社区');
    await api.ok('POST', `/api/v1/communities/${communityId}/activity-categories/defaults`);
    site1 = (await api.ok<{ id: string }>('POST', `/api/v1/communities/${communityId}/sites`, { name: '活动中心' })).id;
    site2 = (await api.ok<{ id: string }>('POST', `/api/v1/communities/${communityId}/sites`, { name: '文化广场' })).id;
    const d1 = await createDevice(api, communityId, 'terminal');
    const d2 = await createDevice(api, communityId, 'terminal');
    await api.ok('PUT', `/api/v1/sites/${site1}/terminals/${d1.id}`);
    await api.ok('PUT', `/api/v1/sites/${site2}/terminals/${d2.id}`);
    t1 = await TestDevice.connectRegistered(gateway.mqttUrl, d1);
    t2 = await TestDevice.connectRegistered(gateway.mqttUrl, d2);
  });

  afterAll(async () => {
    await t1?.close();
    await t2?.close();
    for (const t of terminals) await t.close();
    await gateway?.dispose();
  });

  it('ships the default category tree (10 categories, 28 sub-items), editable', async () => {
    const { categories } = await api.ok<{ categories: { code: string; nameZh: string; children: { code: string }[] }[] }>(
      'GET',
      `/api/v1/communities/${communityId}/activity-categories`,
    );
    expect(categories).toHaveLength(10);
    expect(categories.flatMap((c) => c.children)).toHaveLength(28);
    expect(categories[2]).toMatchObject({ code: 'C03', nameZh: '环境卫生' });
    // Installing again adds nothing; a new sub-item and a rename are kept.
    expect(await api.ok('POST', `/api/v1/communities/${communityId}/activity-categories/defaults`)).toMatchObject({ installed: 0 });
    await api.ok('POST', `/api/v1/communities/${communityId}/activity-categories`, {
      code: 'C03-04',
      parentCode: 'C03',
      nameZh: '旧衣回收',
      nameEn: 'Old clothes',
    });
    await api.ok('PATCH', `/api/v1/communities/${communityId}/activity-categories/C01`, { nameEn: 'Community life' });
    const after = await api.ok<{ categories: { code: string; nameEn: string; children: { code: string }[] }[] }>(
      'GET',
      `/api/v1/communities/${communityId}/activity-categories`,
    );
    expect(after.categories[0]!.nameEn).toBe('Community life');
    expect(after.categories[2]!.children.map((c) => c.code)).toEqual(['C03-01', 'C03-02', 'C03-03', 'C03-04']);
  });

  it('refuses bad set-up with a specific error, and stores nothing', async () => {
    const start = minute() + 60 * MIN;
    const base = {
      siteId: site1,
      startsAt: new Date(start).toISOString(),
      endsAt: new Date(start + 60 * MIN).toISOString(),
      policy: { kind: 'attendance', points: 5 },
    };
    const bad = await api.request('POST', '/api/v1/activities', {
      ...base,
      communityId,
      categoryCode: 'C05-01',
      title: '',
      endsAt: base.startsAt,
      policy: { kind: 'hours' },
    });
    expect(bad.status).toBe(400);
    expect(bad.body.error.code).toBe('validation-failed');
    const fields = (bad.body.error.details?.fields ?? []).map((f: { field: string }) => f.field);
    expect(bad.body.error.message + JSON.stringify(fields)).toMatch(/title/);
    expect(bad.body.error.message + JSON.stringify(fields)).toMatch(/pointsPerHour/);
    const category = await api.request('POST', '/api/v1/activities', { ...base, communityId, categoryCode: 'C03', title: 'x' });
    expect(category.status).toBe(400);
    expect(category.body.error.message).toMatch(/sub-item/);
    const unknownCategory = await api.request('POST', '/api/v1/activities', { ...base, communityId, categoryCode: 'Z99-01', title: 'x' });
    expect(unknownCategory.status).toBe(404);
    const bin = await createDevice(api, communityId, 'bin');
    const assign = await api.request('PUT', `/api/v1/sites/${site1}/terminals/${bin.id}`);
    expect(assign.status).toBe(409);
    expect(assign.body.error.message).toMatch(/not a check-in terminal/);
    const rule = await api.request('POST', '/api/v1/activity-recurrences', {
      ...base,
      communityId,
      categoryCode: 'C05-01',
      title: 'x',
      rule: { weekdays: [6], startTime: '11:00', endTime: '09:00', fromDate: '2026-12-01', untilDate: '2026-12-31' },
    });
    expect(rule.status).toBe(400);
    expect(rule.body.error.message).toMatch(/endTime/);
    const listed = await api.ok<{ activities: unknown[] }>('GET', `/api/v1/activities?communityId=${communityId}&siteId=${site1}`);
    expect(listed.activities).toHaveLength(0);
  });

  it('a weekly recurrence generates its occurrences in the community time zone', async () => {
    const created = await api.ok<{ activities: { startsAt: string; endsAt: string; recurrenceId: string }[] }>(
      'POST',
      '/api/v1/activity-recurrences',
      {
        communityId,
        siteId: site2,
        categoryCode: 'C07-03',
        title: '周六读书会',
        rule: { weekdays: [6], startTime: '09:00', endTime: '11:00', fromDate: '2027-01-01', untilDate: '2027-01-31' },
        policy: { kind: 'attendance', points: 3 },
      },
    );
    expect(created.activities.map((a) => a.startsAt)).toEqual(
      ['2027-01-02', '2027-01-09', '2027-01-16', '2027-01-23', '2027-01-30'].map((d) => `${d}T01:00:00.000Z`),
    );
    expect(created.activities.every((a) => Date.parse(a.endsAt) - Date.parse(a.startsAt) === 2 * 3600_000)).toBe(true);
  });

  it('review: points stay pending until approved; capacity refuses the third; approve one, reject the rest', async () => {
    const { siteId, terminal: t } = await place('审核场地');
    const start = minute() - 5 * MIN;
    const act = await activity({
      siteId,
      startsAt: new Date(start).toISOString(),
      endsAt: new Date(start + 60 * MIN).toISOString(),
      capacity: 2,
      requiresReview: true,
      policy: { kind: 'attendance', points: 8 },
    });
    const [r1, r2, r3] = [
      await createResidentWithCard(api, communityId, '王小明'),
      await createResidentWithCard(api, communityId, '李红'),
      await createResidentWithCard(api, communityId, '赵四'),
    ];
    const now = Date.now() - 1000;
    expect(await t.send(tap(r1.cardUid, now))).toMatchObject({ result: 'pending', reason: 'needs-review', points: 8, balance: 0 });
    const second = await t.send(tap(r2.cardUid, now));
    expect(second).toMatchObject({ result: 'pending', reason: 'needs-review', points: 8 });
    expect(second.display.zh).toBe('李* 签到成功「助老服务」，8 积分待审核');
    const full = await t.send(tap(r3.cardUid, now));
    expect(full).toMatchObject({ result: 'rejected', reason: 'capacity-reached', points: 0 });
    expect(full.display.en).toMatch(/full/);

    const sheet = await api.ok<{
      counts: { total: number; pendingReview: number };
      attendance: { id: string; residentId: string; pendingPoints: number }[];
    }>('GET', `/api/v1/activities/${act.id}/attendance`);
    expect(sheet.counts).toMatchObject({ total: 2, pendingReview: 2 });
    const first = sheet.attendance.find((a) => a.residentId === r1.residentId)!;
    expect(
      await api.ok('POST', `/api/v1/activities/${act.id}/attendance/review`, {
        action: 'approve',
        attendanceIds: [first.id],
        reason: '现场核实',
      }),
    ).toMatchObject({
      entries: 1,
      points: 8,
    });
    expect(await api.ok('POST', `/api/v1/activities/${act.id}/attendance/review`, { action: 'reject', reason: '未参加' })).toMatchObject({
      entries: 1,
      points: 8,
    });
    expect(await balanceOf(api, r1.residentId)).toBe(8);
    expect(await balanceOf(api, r2.residentId)).toBe(0);
    const again = await api.request('POST', `/api/v1/activities/${act.id}/attendance/review`, { action: 'approve', reason: 'x' });
    expect(again.status).toBe(404);
  });

  it('manual check-in and check-out: judged like a tap, never more points, audited with the reason', async () => {
    const { siteId } = await place('手工签到场地');
    const start = minute() - 60 * MIN;
    const act = await activity({
      siteId,
      startsAt: new Date(start).toISOString(),
      endsAt: new Date(start + 120 * MIN).toISOString(),
      closesAfterMinutes: 30,
      title: '陪伴老人',
      policy: { kind: 'hours', pointsPerHour: 12, roundingMinutes: 15, minimumMinutes: 30 },
    });
    const resident = (await api.ok<{ id: string }>('POST', '/api/v1/residents', { communityId, name: '无卡老人' })).id;
    const path = `/api/v1/activities/${act.id}/attendance/manual`;
    const noReason = await api.request('POST', path, { residentId: resident, action: 'check-in' });
    expect(noReason.status).toBe(400);
    // Before the window opened: refused, as a tap would be.
    const early = await api.request('POST', path, {
      residentId: resident,
      action: 'check-in',
      at: new Date(start - 45 * MIN).toISOString(),
      reason: '忘带卡',
    });
    expect(early.status).toBe(409);
    expect(early.body.error.message).toMatch(/no-open-activity/);
    expect(
      await api.ok('POST', path, {
        residentId: resident,
        action: 'check-in',
        at: new Date(start - 10 * MIN).toISOString(),
        reason: '忘带卡',
      }),
    ).toMatchObject({
      status: 'in',
      pointsAdded: 0,
    });
    expect((await api.request('POST', path, { residentId: resident, action: 'check-in', reason: '再次' })).status).toBe(409);
    // Out 50 minutes after the start: 45 minutes counted, 9 points; a later claim cannot go past now.
    const out = await api.ok('POST', path, {
      residentId: resident,
      action: 'check-out',
      at: new Date(start + 50 * MIN).toISOString(),
      reason: '提前离开',
    });
    expect(out).toMatchObject({ status: 'out', minutes: 45, points: 9, pointsAdded: 9 });
    const future = await api.request('POST', path, {
      residentId: resident,
      action: 'check-out',
      at: new Date(Date.now() + 3 * 3600_000).toISOString(),
      reason: 'x',
    });
    expect(future.status).toBe(400);
    expect(await balanceOf(api, resident)).toBe(9);
    manualActivityId = act.id;
    const audit = await api.ok<{ entries: { action: string; after: { reason?: string } }[] }>(
      'GET',
      `/api/v1/audit-log?entityType=activity&entityId=${act.id}`,
    );
    expect(audit.entries.map((e) => e.after.reason).filter(Boolean)).toEqual(['提前离开', '忘带卡']);
  });

  it('two sites at once: a check-in at the second ends the first at that moment', async () => {
    const one = await place('一号场地');
    const two = await place('二号场地');
    const start = minute() - 60 * MIN;
    const first = await activity({
      siteId: one.siteId,
      startsAt: new Date(start).toISOString(),
      endsAt: new Date(start + 180 * MIN).toISOString(),
      policy: { kind: 'hours', pointsPerHour: 10, roundingMinutes: 15, minimumMinutes: 30 },
    });
    const second = await activity({
      siteId: two.siteId,
      startsAt: new Date(start + 40 * MIN).toISOString(),
      endsAt: new Date(start + 180 * MIN).toISOString(),
      policy: { kind: 'attendance', points: 4 },
    });
    const r = await createResidentWithCard(api, communityId, '钱多多');
    expect(await one.terminal.send(tap(r.cardUid, start))).toMatchObject({ result: 'credited', points: 0 });
    // 45 minutes at site 1, then a check-in at site 2: +7 (45 min at 10/h) there, +4 here.
    expect(await two.terminal.send(tap(r.cardUid, start + 45 * MIN))).toMatchObject({ result: 'credited', points: 11, balance: 11 });
    const sheet = await api.ok<{ attendance: { status: string; minutes: number; points: number; checkedOutAt: string }[] }>(
      'GET',
      `/api/v1/activities/${first.id}/attendance`,
    );
    expect(sheet.attendance).toEqual([
      expect.objectContaining({ status: 'out', minutes: 45, points: 7, checkedOutAt: new Date(start + 45 * MIN).toISOString() }),
    ]);
    const other = await api.ok<{ counts: { in: number } }>('GET', `/api/v1/activities/${second.id}/attendance`);
    expect(other.counts.in).toBe(1);
  });

  it('exports the attendance as CSV with a BOM and Chinese headers', async () => {
    const { activities } = await api.ok<{ activities: { id: string; title: string }[] }>(
      'GET',
      `/api/v1/activities?communityId=${communityId}`,
    );
    const manual = activities.find((a) => a.id === manualActivityId)!;
    const res = await fetch(`${gateway.baseUrl}/api/v1/activities/${manual.id}/attendance/export`, {
      headers: { authorization: 'Bearer test-admin-token-0123456789abcdef' },
    });
    expect(res.headers.get('content-type')).toMatch(/^text\/csv/);
    const bytes = Buffer.from(await res.arrayBuffer());
    expect([...bytes.subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
    const lines = bytes.toString('utf8').slice(1).split('\r\n');
    expect(lines[1]).toContain('"签到时间 checked in"');
    expect(lines[2]).toMatch(
      /^"无卡老人","[0-9a-f-]{36}","\d{4}-\d\d-\d\d \d\d:\d\d:\d\d","\d{4}-\d\d-\d\d \d\d:\d\d:\d\d","已签退 out","45","9","0"$/,
    );
    expect(lines[3]).toMatch(/^"合计 TOTAL","1 人 residents"/);
  });

  it('auto-closes attendance left open at the end (credit-to-end, and no-hours)', async () => {
    const one = await place('巡逻起点');
    const two = await place('巡逻终点');
    const start = minute() - 70 * MIN;
    const opts = {
      siteId: one.siteId,
      startsAt: new Date(start).toISOString(),
      endsAt: new Date(start + 50 * MIN).toISOString(),
      checkOutGraceMinutes: 0,
    };
    const hoursPolicy = { kind: 'hours', pointsPerHour: 10, roundingMinutes: 15, minimumMinutes: 30 };
    const toEnd = await activity({ ...opts, title: '巡逻 A', policy: hoursPolicy, autoClose: 'credit-to-end' });
    const r = await createResidentWithCard(api, communityId, '孙悟空');
    // A late tap (an offline terminal) from 5 minutes before the start: the activity has already ended.
    expect(await one.terminal.send(tap(r.cardUid, start - 5 * MIN))).toMatchObject({ result: 'credited', points: 0 });
    const closed = await eventually(
      async () => {
        const s = await api.ok<{ attendance: { status: string; minutes: number; points: number }[] }>(
          'GET',
          `/api/v1/activities/${toEnd.id}/attendance`,
        );
        return s.attendance[0]?.status === 'closed' ? s.attendance[0] : undefined;
      },
      20_000,
      'the auto-close',
    );
    // 50 minutes present, counted 45: 7 points.
    expect(closed).toMatchObject({ minutes: 45, points: 7 });
    expect(await balanceOf(api, r.residentId)).toBe(7);

    const noHours = await activity({ ...opts, siteId: two.siteId, title: '巡逻 B', policy: hoursPolicy, autoClose: 'no-hours' });
    expect(await two.terminal.send(tap(r.cardUid, start))).toMatchObject({ result: 'credited', points: 0 });
    const none = await eventually(
      async () => {
        const s = await api.ok<{ attendance: { status: string; minutes: number; points: number }[] }>(
          'GET',
          `/api/v1/activities/${noHours.id}/attendance`,
        );
        return s.attendance[0]?.status === 'closed' ? s.attendance[0] : undefined;
      },
      20_000,
      'the auto-close',
    );
    expect(none).toMatchObject({ minutes: 0, points: 0 });
    expect(await balanceOf(api, r.residentId)).toBe(7);
  });

  it('unknown cards, blocked cards and terminals without a site get their reason and a line to act on', async () => {
    const unknown = await t1.send(tap('DEADBEEF', Date.now() - 1000));
    expect(unknown).toMatchObject({ result: 'rejected', reason: 'unknown-card' });
    expect(unknown.display.zh).toMatch(/登记/);
    const lonely = await createDevice(api, communityId, 'terminal');
    const t3 = await TestDevice.connectRegistered(gateway.mqttUrl, lonely);
    try {
      const r = await createResidentWithCard(api, communityId, '周五');
      expect(await t3.send(tap(r.cardUid, Date.now() - 1000))).toMatchObject({ result: 'rejected', reason: 'no-open-activity' });
    } finally {
      await t3.close();
    }
  });
});
