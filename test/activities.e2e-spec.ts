import type { Ack, TapEvent } from '../libs/protocol/src';
import { ApiClient, createCommunity, createDevice, createResidentWithCard } from './support/api-client';
import { GatewayProcess } from './support/gateway-process';
import { TestDevice } from './support/test-device';
import { modeName } from './support/test-mode';

jest.setTimeout(180_000);

const MIN = 60_000;
let tapSeq = 0;
function tapAt(device: TestDevice, cardUid: string, at: number): TapEvent {
  return { eventId: `tap-${device.id}-${++tapSeq}`, seq: tapSeq, occurredAt: new Date(at).toISOString(), type: 'tap', cardUid };
}

interface Resident {
  i: number;
  residentId: string;
  cardUid: string;
  name: string;
}

/** One planned tap of the morning, and the ack the test expects for it. */
interface PlannedTap {
  i: number;
  terminal: 'A' | 'B';
  at: number;
  expect: { result: Ack['result']; reason?: string; points: number };
}

/**
 * A morning at one activity, worked out in this file: 200 residents, two
 * terminals A and B at one site, an hours-mode activity 10 points an hour
 * (presence rounded down to 15 minutes, nothing under 30), from S to S + 2 h.
 * Check-in opens at S − 30 min and closes at S + 15 min.
 */
describe(`a morning of check-ins at one activity — ${modeName}`, () => {
  let gateway: GatewayProcess;
  let api: ApiClient;
  let a: TestDevice;
  let b: TestDevice;
  let communityId: string;
  let siteId: string;

  beforeAll(async () => {
    gateway = await GatewayProcess.start({ env: { API_RATE_LIMIT_PER_MINUTE: '100000' } });
    api = new ApiClient(gateway.baseUrl);
    communityId = await createCommunity(api, '签到社区');
    siteId = (
      await api.ok<{ id: string }>('POST', `/api/v1/communities/${communityId}/sites`, { name: '社区活动中心', address: '海港路 1 号' })
    ).id;
    await api.ok('POST', `/api/v1/communities/${communityId}/activity-categories/defaults`);
    const devA = await createDevice(api, communityId, 'terminal');
    const devB = await createDevice(api, communityId, 'terminal');
    await api.ok('PUT', `/api/v1/sites/${siteId}/terminals/${devA.id}`);
    await api.ok('PUT', `/api/v1/sites/${siteId}/terminals/${devB.id}`);
    a = await TestDevice.connectRegistered(gateway.mqttUrl, devA);
    b = await TestDevice.connectRegistered(gateway.mqttUrl, devB);
  });

  afterAll(async () => {
    await a?.close();
    await b?.close();
    await gateway?.dispose();
  });

  it('ends with the attendance list and the ledger computed here', async () => {
    // S: an hour ago, on the minute; the activity ends an hour from now, so every tap is in the past.
    const S = Math.floor(Date.now() / MIN) * MIN - 60 * MIN;
    const activity = await api.ok<{ id: string }>('POST', '/api/v1/activities', {
      communityId,
      siteId,
      categoryCode: 'C03-02',
      title: '周六清洁家园',
      startsAt: new Date(S).toISOString(),
      endsAt: new Date(S + 120 * MIN).toISOString(),
      opensBeforeMinutes: 30,
      closesAfterMinutes: 15,
      policy: { kind: 'hours', pointsPerHour: 10, roundingMinutes: 15, minimumMinutes: 30 },
    });

    const residents: Resident[] = [];
    for (let start = 0; start < 200; start += 20) {
      residents.push(
        ...(await Promise.all(
          Array.from({ length: 20 }, async (_, k) => {
            const i = start + k;
            const name = `居民${String(i).padStart(3, '0')}号`;
            return { i, name, ...(await createResidentWithCard(api, communityId, name)) };
          }),
        )),
      );
    }

    // The plan. Everyone arrives between S − 25 min and S + 14.2 min: even i at A, odd at B.
    const plan: PlannedTap[] = [];
    const expected = new Map<number, { checkedInAt: number; checkedOutAt: number | null; minutes: number; points: number }>();
    for (const { i } of residents) {
      const arrive = S - 25 * MIN + (i % 50) * 48_000;
      const home = i % 2 === 0 ? 'A' : 'B';
      const other = home === 'A' ? 'B' : 'A';
      // Every 25th also tapped at 40 minutes before the start, before the window opened (at A).
      if (i % 25 === 5)
        plan.push({ i, terminal: 'A', at: S - 40 * MIN, expect: { result: 'rejected', reason: 'no-open-activity', points: 0 } });
      plan.push({ i, terminal: home, at: arrive, expect: { result: 'credited', points: 0 } });
      // Double taps: 20 s later at the same terminal, or 40 s later at the other one: repeats either way.
      if (i % 10 === 3)
        plan.push({ i, terminal: home, at: arrive + 20_000, expect: { result: 'rejected', reason: 'already-checked-in', points: 0 } });
      if (i % 10 === 7)
        plan.push({ i, terminal: other, at: arrive + 40_000, expect: { result: 'rejected', reason: 'already-checked-in', points: 0 } });
      let checkedInAt = arrive;
      // B was offline until S: a resident who tapped B then A 40 s later is checked in by A's tap, which arrived
      // first; B's earlier tap, arriving late, is within the 60 s debounce of it, so it is the repeat.
      if (i % 10 === 7 && arrive < S) {
        checkedInAt = arrive + 40_000;
        plan[plan.length - 2]!.expect = { result: 'rejected', reason: 'already-checked-in', points: 0 };
        plan[plan.length - 1]!.expect = { result: 'credited', points: 0 };
      }
      // Three in four leave between S + 31 and S + 58 min, tapping the other terminal.
      if (i % 4 !== 0) {
        const leave = S + 31 * MIN + ((i * 7) % 28) * MIN;
        const present = Math.floor((leave - Math.max(checkedInAt, S)) / MIN);
        const counted = present < 30 ? 0 : Math.floor(present / 15) * 15;
        const points = Math.floor((counted * 10) / 60);
        plan.push({ i, terminal: other, at: leave, expect: { result: 'credited', points } });
        expected.set(i, { checkedInAt, checkedOutAt: leave, minutes: counted, points });
      } else {
        expected.set(i, { checkedInAt, checkedOutAt: null, minutes: 0, points: 0 });
      }
    }
    plan.sort((x, y) => x.at - y.at || x.i - y.i);

    // Terminal B is offline for the first half hour: its taps before S wait in its outbox and go out at S.
    const acks = new Map<PlannedTap, Ack>();
    const held: { tap: PlannedTap; event: TapEvent }[] = [];
    const byIndex = new Map(residents.map((r) => [r.i, r]));
    // B's outbox goes out at once when it reconnects, oldest first (one or a few group-commit batches).
    const flushB = async () => {
      const flushing = held.splice(0);
      const answers = await Promise.all(flushing.map((h) => b.send(h.event)));
      flushing.forEach((h, k) => acks.set(h.tap, answers[k]!));
    };
    for (const tap of plan) {
      const device = tap.terminal === 'A' ? a : b;
      const event = tapAt(device, byIndex.get(tap.i)!.cardUid, tap.at);
      if (tap.terminal === 'B' && tap.at < S) {
        held.push({ tap, event });
        continue;
      }
      if (tap.at >= S && held.length > 0) await flushB();
      acks.set(tap, await device.send(event));
    }
    await flushB();

    // Every ack as planned.
    const wrong: string[] = [];
    for (const tap of plan) {
      const ack = acks.get(tap)!;
      const got = { result: ack.result, ...(ack.reason ? { reason: ack.reason } : {}), points: ack.points };
      if (JSON.stringify(got) !== JSON.stringify(tap.expect))
        wrong.push(
          `resident ${tap.i} at ${tap.terminal} ${new Date(tap.at).toISOString()}: ${JSON.stringify(got)} ≠ ${JSON.stringify(tap.expect)}`,
        );
    }
    expect(wrong).toEqual([]);
    const sample = acks.get(plan.find((t) => t.expect.points > 0)!)!;
    expect(sample.display.zh).toMatch(/^居\*+号 签退「周六清洁家园」，共 [\d.]+ 小时，\+\d+ 积分$/);

    // The attendance list.
    const sheet = await api.ok<{
      counts: { in: number; out: number; total: number };
      attendance: {
        residentId: string;
        status: string;
        checkedInAt: string;
        checkedOutAt: string | null;
        minutes: number;
        points: number;
      }[];
    }>('GET', `/api/v1/activities/${activity.id}/attendance`);
    const byResident = new Map(residents.map((r) => [r.residentId, r.i]));
    const got = new Map(sheet.attendance.map((row) => [byResident.get(row.residentId)!, row]));
    expect(sheet.counts).toMatchObject({ total: 200, in: 50, out: 150 });
    const mismatches: string[] = [];
    for (const [i, e] of expected) {
      const row = got.get(i);
      const want = {
        status: e.checkedOutAt === null ? 'in' : 'out',
        checkedInAt: new Date(e.checkedInAt).toISOString(),
        checkedOutAt: e.checkedOutAt === null ? null : new Date(e.checkedOutAt).toISOString(),
        minutes: e.minutes,
        points: e.points,
      };
      const have = row && {
        status: row.status,
        checkedInAt: row.checkedInAt,
        checkedOutAt: row.checkedOutAt,
        minutes: row.minutes,
        points: row.points,
      };
      if (JSON.stringify(have) !== JSON.stringify(want))
        mismatches.push(`resident ${i}: ${JSON.stringify(have)} ≠ ${JSON.stringify(want)}`);
    }
    expect(mismatches).toEqual([]);

    // The ledger: one entry per resident whose check-out earned points, each balance as computed, the chain intact.
    const earners = [...expected.values()].filter((e) => e.points > 0);
    for (const r of residents.filter((_, k) => k % 17 === 0)) {
      const { balance } = await api.ok<{ balance: number }>('GET', `/api/v1/residents/${r.residentId}`);
      expect(balance).toBe(expected.get(r.i)!.points);
    }
    const verify = await api.ok<{ ok: boolean; entriesChecked: number }>('GET', `/api/v1/ledger/verify?communityId=${communityId}`);
    expect(verify).toEqual(expect.objectContaining({ ok: true, entriesChecked: earners.length }));
    const total = [...expected.values()].reduce((s, e) => s + e.points, 0);
    const hours = await api.ok<{ totalMinutes: number }>('GET', `/api/v1/residents/${residents[1]!.residentId}/volunteer-hours`);
    expect(hours.totalMinutes).toBe(expected.get(1)!.minutes);
    expect(total).toBeGreaterThan(0);
  });
});
