import { deviceTopic } from '../libs/protocol/src';
import { ApiClient, balanceOf, createCommunity, createDevice, createResidentWithCard, eventually } from './support/api-client';
import { GatewayProcess } from './support/gateway-process';
import { TestDevice } from './support/test-device';
import { modeName } from './support/test-mode';

jest.setTimeout(90_000);

/**
 * One bin's day, worked out by hand: three residents, a daily cap of 12 points,
 * plausibility checks, a bin that fills up, a collection. At the end the
 * balances, the pending queue, the caps and the collection report must equal
 * the figures in the comments.
 */
describe(`a simulated day at one battery bin — ${modeName}`, () => {
  let gateway: GatewayProcess;
  let api: ApiClient;
  let bin: TestDevice;
  let binId: string;
  let communityId: string;

  beforeAll(async () => {
    gateway = await GatewayProcess.start();
    api = new ApiClient(gateway.baseUrl);
    communityId = await createCommunity(api, '一日社区');
    await api.ok('POST', `/api/v1/communities/${communityId}/points-rules`, {
      rules: {
        perUnit: { alkaline: 1, lithium: 3, button: 1, rechargeable: 2, other: 1 },
        caps: { dayPoints: 12 },
        plausibility: {
          gramsPerUnit: { alkaline: [20, 25], lithium: [40, 50], button: [1, 5], rechargeable: [20, 30], other: [1, 500] },
          tolerancePercent: 10,
        },
      },
    });
    const device = await createDevice(api, communityId);
    binId = device.id;
    bin = await TestDevice.connectRegistered(gateway.mqttUrl, device);
  });

  afterAll(async () => {
    await bin?.close();
    await gateway?.dispose();
  });

  it('ends with the balances, the review queue, the caps and the collection report computed by hand', async () => {
    const a = await createResidentWithCard(api, communityId, '周一');
    const b = await createResidentWithCard(api, communityId, '吴二');
    const c = await createResidentWithCard(api, communityId, '郑三');
    const deposit = (uid: string, items: { kind: string; count: number }[], weightGrams?: number) =>
      // weightGrams: undefined is left out of the JSON: a scale fault.
      bin.send(bin.deposit(uid, { items, weightGrams }));

    // Morning. A: 4 alkaline 90 g (72–110 g fits) → +4 (4). A: 2 lithium 90 g (72–110) → +6 (10).
    expect(await deposit(a.cardUid, [{ kind: 'alkaline', count: 4 }], 90)).toMatchObject({ result: 'credited', points: 4 });
    expect(await deposit(a.cardUid, [{ kind: 'lithium', count: 2 }], 90)).toMatchObject({ result: 'credited', points: 6, balance: 10 });
    // B: 5 alkaline that weigh 20 g (90–138 g expected) → 5 pending review.
    expect(await deposit(b.cardUid, [{ kind: 'alkaline', count: 5 }], 20)).toMatchObject({ result: 'pending', reason: 'needs-review' });
    // C: 3 rechargeable, scale fault (no weight) → judged by count: +6.
    expect(await deposit(c.cardUid, [{ kind: 'rechargeable', count: 3 }])).toMatchObject({ result: 'credited', points: 6 });

    // Noon: the bin reports 96 % full; deposits still go in, and the display says so.
    await bin.publishRaw(deviceTopic(binId, 'telemetry'), JSON.stringify({ fillPercent: 96 }));
    await eventually(
      async () => ((await api.ok<{ open: unknown[] }>('GET', `/api/v1/bins/${binId}/alerts`)).open.length > 0 ? true : undefined),
      10_000,
      'the full alert',
    );
    // A: 3 lithium 135 g (108–165) worth 9, but only 2 left under the cap of 12 → +2 (12), cap-reached.
    const capped = await deposit(a.cardUid, [{ kind: 'lithium', count: 3 }], 135);
    expect(capped).toMatchObject({ result: 'credited', reason: 'cap-reached', points: 2, balance: 12 });
    expect(capped.display.zh).toContain('箱已满');

    // Afternoon: staff empty the bin: 90 + 90 + 20 + 135 g credited or pending with a weight = 335 g; they weigh 330 g.
    await api.ok('POST', `/api/v1/bins/${binId}/collections`, { weightGrams: 330 });

    // The credit administrator checks B's deposit and voids it.
    const queue = await api.ok<{ entries: { id: string; creditAccount: string }[] }>(
      'GET',
      `/api/v1/ledger/pending?communityId=${communityId}`,
    );
    expect(queue.entries.map((e) => e.creditAccount)).toEqual([`resident:${b.residentId}`]);
    await api.ok('POST', '/api/v1/ledger/pending/void', {
      entryIds: [queue.entries[0]!.id],
      reason: '重量不符，电池为空壳 / empty casings',
    });

    expect(await balanceOf(api, a.residentId)).toBe(12);
    expect(await balanceOf(api, b.residentId)).toBe(0);
    expect(await balanceOf(api, c.residentId)).toBe(6);
    const report = await api.ok<{
      flagged: number;
      collections: { weightCollectedGrams: number; weightCreditedGrams: number; flagged: boolean }[];
    }>('GET', `/api/v1/bins/${binId}/collection-report`);
    expect(report.collections.map((x) => [x.weightCollectedGrams, x.weightCreditedGrams, x.flagged])).toEqual([[330, 335, false]]);
    const verify = await api.ok<{ ok: boolean; entriesChecked: number }>('GET', `/api/v1/ledger/verify?communityId=${communityId}`);
    // 4 credits (A ×3, C ×1), B's pending entry and its void.
    expect(verify).toMatchObject({ ok: true, entriesChecked: 6 });
  });
});
