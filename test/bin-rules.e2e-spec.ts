import { ApiClient, balanceOf, createCommunity, createDevice, createResidentWithCard, newCardUid } from './support/api-client';
import { GatewayProcess } from './support/gateway-process';
import { TestDevice } from './support/test-device';
import { modeName } from './support/test-mode';

jest.setTimeout(60_000);

const GRAMS = { alkaline: [20, 25], lithium: [2, 60], button: [0.5, 10], rechargeable: [10, 160], other: [1, 500] };
const RULES = {
  perUnit: { alkaline: 1, lithium: 3, button: 1, rechargeable: 2, other: 1 },
  caps: { dayPoints: 20 },
  plausibility: { gramsPerUnit: GRAMS, tolerancePercent: 10 },
};

/**
 * A day at one bin under versioned rules with a daily cap and a count-versus-weight
 * check; every figure below is worked out by hand from RULES.
 */
describe(`battery bin points rules: caps, review, versions — ${modeName}`, () => {
  let gateway: GatewayProcess;
  let api: ApiClient;
  let bin: TestDevice;
  let communityId: string;

  beforeAll(async () => {
    gateway = await GatewayProcess.start();
    api = new ApiClient(gateway.baseUrl);
    communityId = await createCommunity(api, '环保社区');
    await api.ok('POST', `/api/v1/communities/${communityId}/points-rules`, { rules: RULES });
    bin = await TestDevice.connectRegistered(gateway.mqttUrl, await createDevice(api, communityId));
  });

  afterAll(async () => {
    await bin?.close();
    await gateway?.dispose();
  });

  it('lists the implicit version 0 and the new version 1 as current', async () => {
    const { current, versions } = await api.ok<{ current: { version: number }; versions: { version: number }[] }>(
      'GET',
      `/api/v1/communities/${communityId}/points-rules`,
    );
    expect(versions.map((v) => v.version)).toEqual([0, 1]);
    expect(current.version).toBe(1);
  });

  it('credits up to the daily cap, says cap-reached, and still counts the batteries', async () => {
    const { residentId, cardUid } = await createResidentWithCard(api, communityId, '赵敏');
    // 10 alkaline, 230 g (fits 180–275 g): +10.
    const first = await bin.send(bin.deposit(cardUid, { items: [{ kind: 'alkaline', count: 10 }], weightGrams: 230 }));
    expect(first).toMatchObject({ result: 'credited', points: 10, balance: 10 });
    expect(first.reason).toBeUndefined();
    // 8 lithium (worth 24), 200 g: only 10 left under the cap of 20.
    const second = await bin.send(bin.deposit(cardUid, { items: [{ kind: 'lithium', count: 8 }], weightGrams: 200 }));
    expect(second).toMatchObject({ result: 'credited', reason: 'cap-reached', points: 10, balance: 20 });
    expect(second.display.zh).toContain('上限');
    // At the cap: nothing more today, but the deposit is kept and acked.
    const third = await bin.send(bin.deposit(cardUid, { items: [{ kind: 'alkaline', count: 2 }], weightGrams: 46 }));
    expect(third).toMatchObject({ result: 'credited', reason: 'cap-reached', points: 0, balance: 20 });
    expect(await balanceOf(api, residentId)).toBe(20);
    const { entries } = await api.ok<{ entries: { amount: number }[] }>('GET', `/api/v1/residents/${residentId}/ledger`);
    expect(entries.map((e) => e.amount)).toEqual([10, 10]);
  });

  it('applies the daily cap to deposits held for an unregistered card when the card is bound', async () => {
    const { residentId, cardUid } = await createResidentWithCard(api, communityId, '孙丽');
    // 12 alkaline today with the registered card: +12, 8 left under the cap of 20.
    expect(await bin.send(bin.deposit(cardUid, { items: [{ kind: 'alkaline', count: 12 }], weightGrams: 270 }))).toMatchObject({
      result: 'credited',
      points: 12,
    });
    // A new, not yet registered card: two deposits held (5 lithium = 15, then 3 lithium = 9).
    const newCard = newCardUid();
    const held = [
      await bin.send(bin.deposit(newCard, { items: [{ kind: 'lithium', count: 5 }], weightGrams: 100 })),
      await bin.send(bin.deposit(newCard, { items: [{ kind: 'lithium', count: 3 }], weightGrams: 60 })),
    ];
    expect(held.map((a) => [a.result, a.reason, a.points])).toEqual([
      ['pending', 'unknown-card', 15],
      ['pending', 'unknown-card', 9],
    ]);
    // Bound to the same resident: 8 of the first (to the cap), nothing of the second.
    const bound = await api.ok<{ claims: { claimed: number; points: number; pendingPoints: number } }>(
      'POST',
      `/api/v1/residents/${residentId}/cards`,
      {
        uid: newCard,
      },
    );
    expect(bound.claims).toEqual({ claimed: 1, points: 8, pendingPoints: 0 });
    expect(await balanceOf(api, residentId)).toBe(20);
    // The tally moved too: a further deposit today earns nothing.
    expect(await bin.send(bin.deposit(newCard, { items: [{ kind: 'alkaline', count: 1 }], weightGrams: 23 }))).toMatchObject({
      result: 'credited',
      reason: 'cap-reached',
      points: 0,
      balance: 20,
    });
  });

  it('sends a held deposit whose count and weight disagree to the review queue when its card is bound', async () => {
    const resident = await api.ok<{ id: string }>('POST', '/api/v1/residents', { communityId, name: '周到' });
    const newCard = newCardUid();
    const ack = await bin.send(bin.deposit(newCard, { items: [{ kind: 'alkaline', count: 10 }], weightGrams: 40 }));
    expect(ack).toMatchObject({ result: 'pending', reason: 'unknown-card', points: 10 });
    const bound = await api.ok<{ claims: object }>('POST', `/api/v1/residents/${resident.id}/cards`, { uid: newCard });
    expect(bound.claims).toEqual({ claimed: 1, points: 0, pendingPoints: 10 });
    expect(await api.ok('GET', `/api/v1/residents/${resident.id}`)).toMatchObject({ balance: 0, pendingPoints: 10 });
  });

  it('holds points for review when count and weight disagree, with the evidence in the queue', async () => {
    const { residentId, cardUid } = await createResidentWithCard(api, communityId, '钱进');
    // 10 "alkaline" that weigh 40 g: expected 180–275 g.
    const ack = await bin.send(bin.deposit(cardUid, { items: [{ kind: 'alkaline', count: 10 }], weightGrams: 40 }));
    expect(ack).toMatchObject({ result: 'pending', reason: 'needs-review', points: 10, balance: 0 });
    const resident = await api.ok<{ balance: number; pendingPoints: number }>('GET', `/api/v1/residents/${residentId}`);
    expect(resident).toMatchObject({ balance: 0, pendingPoints: 10 });

    const queue = await api.ok<{ entries: { id: string; amount: number; reason: string; creditAccount: string }[] }>(
      'GET',
      `/api/v1/ledger/pending?communityId=${communityId}`,
    );
    const held = queue.entries.find((e) => e.creditAccount === `resident:${residentId}`);
    expect(held).toMatchObject({ amount: 10, reason: 'weighed 40 g for 10 alkaline: expected 180–275 g' });
    await api.ok('POST', '/api/v1/ledger/pending/settle', { entryIds: [held!.id], reason: '现场核实 / checked at the bin' });
    expect(await balanceOf(api, residentId)).toBe(10);
  });

  it('judges a deposit by the version in force when it occurred: a rule change applies to later events only', async () => {
    const { residentId, cardUid } = await createResidentWithCard(api, communityId, '孙丽');
    const changeAt = new Date(Date.now() + 1500);
    const v2 = await api.request('POST', `/api/v1/communities/${communityId}/points-rules`, {
      rules: { ...RULES, perUnit: { ...RULES.perUnit, alkaline: 5 } },
      effectiveFrom: changeAt.toISOString(),
    });
    expect(v2.status).toBe(201);
    expect(v2.body).toMatchObject({ version: 2 });
    await new Promise((r) => setTimeout(r, changeAt.getTime() - Date.now() + 100));

    // Occurred before the change (a bin that was offline), arrives after it: version 1.
    const before = await bin.send(
      bin.deposit(cardUid, {
        items: [{ kind: 'alkaline', count: 1 }],
        weightGrams: 23,
        occurredAt: new Date(changeAt.getTime() - 60_000).toISOString(),
      }),
    );
    const after = await bin.send(bin.deposit(cardUid, { items: [{ kind: 'alkaline', count: 1 }], weightGrams: 23 }));
    expect(before).toMatchObject({ result: 'credited', points: 1 });
    expect(after).toMatchObject({ result: 'credited', points: 5 });
    expect(await balanceOf(api, residentId)).toBe(6);
  });

  it('refuses a rule change that reaches into the past, naming the field', async () => {
    const res = await api.request('POST', `/api/v1/communities/${communityId}/points-rules`, {
      rules: RULES,
      effectiveFrom: new Date(Date.now() - 3_600_000).toISOString(),
    });
    expect(res.status).toBe(400);
    expect(res.body.error.message).toContain('effectiveFrom');
  });

  it('refuses rules with a fractional rate, naming the field, and keeps the current version', async () => {
    const res = await api.request('POST', `/api/v1/communities/${communityId}/points-rules`, {
      rules: { ...RULES, perUnit: { ...RULES.perUnit, lithium: 2.5 } },
    });
    expect(res.status).toBe(400);
    expect(JSON.stringify(res.body.error)).toContain('lithium');
    const { current } = await api.ok<{ current: { version: number } }>('GET', `/api/v1/communities/${communityId}/points-rules`);
    expect(current.version).toBe(2);
  });
});
