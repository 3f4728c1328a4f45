import { randomUUID } from 'node:crypto';
import { ApiClient, balanceOf, createCommunity, createDevice, createResidentWithCard } from './support/api-client';
import { GatewayProcess } from './support/gateway-process';
import { TestDevice } from './support/test-device';
import { modeName } from './support/test-mode';

jest.setTimeout(90_000);

interface Item {
  id: string;
  name: string;
  pricePoints: number;
  stock: number;
  isActive: boolean;
}

describe(`the points supermarket and gifts — ${modeName}`, () => {
  let gateway: GatewayProcess;
  let api: ApiClient;
  let communityId: string;
  let bin: TestDevice;
  const devices: TestDevice[] = [];
  const items: Record<string, Item> = {};

  async function connect(device: { id: string; password: string }): Promise<TestDevice> {
    const d = await TestDevice.connectRegistered(gateway.mqttUrl, device);
    devices.push(d);
    return d;
  }

  /** A resident with a card, credited through real deposits at the bin (lithium: 3 points each). */
  async function residentWith(points: number, name = '张三丰', community = communityId): Promise<{ residentId: string; cardUid: string }> {
    const r = await createResidentWithCard(api, community, name);
    if (points > 0) {
      if (points % 3 !== 0) throw new Error('credit in multiples of 3');
      let left = points / 3;
      while (left > 0) {
        const count = Math.min(left, 500);
        const ack = await bin.send(bin.deposit(r.cardUid, { items: [{ kind: 'lithium', count }] }));
        expect(ack).toMatchObject({ result: 'credited', points: count * 3 });
        left -= count;
      }
    }
    expect(await balanceOf(api, r.residentId)).toBe(points);
    return r;
  }

  async function stockOf(itemId: string): Promise<number> {
    return (await api.ok<Item>('GET', `/api/v1/catalogue/${itemId}`)).stock;
  }

  async function ordersOf(residentId: string): Promise<any[]> {
    return (await api.ok<{ orders: any[] }>('GET', `/api/v1/residents/${residentId}/redemptions`)).orders;
  }

  const redeem = (residentId: string, lines: { itemId: string; quantity: number }[], headers: Record<string, string> = {}) =>
    api.request('POST', `/api/v1/communities/${communityId}/redemptions`, { residentId, lines }, headers);

  beforeAll(async () => {
    gateway = await GatewayProcess.start();
    api = new ApiClient(gateway.baseUrl);
    communityId = await createCommunity(api, '滨海社区');
    bin = await connect(await createDevice(api, communityId, 'bin'));
  });

  afterAll(async () => {
    await Promise.all(devices.map((d) => d.close()));
    await gateway?.dispose();
  });

  it('keeps a catalogue: towel 10, spray bottle 20, peanut oil 60', async () => {
    for (const [name, pricePoints, stock] of [
      ['towel', 10, 5],
      ['spray bottle', 20, 3],
      ['peanut oil', 60, 1],
    ] as const) {
      const res = await api.request<Item>('POST', `/api/v1/communities/${communityId}/catalogue`, { name, pricePoints, stock });
      expect(res.status).toBe(201);
      expect(res.body).toMatchObject({ name, pricePoints, stock, isActive: true });
      items[name] = res.body;
    }
    const list = await api.ok<{ items: Item[] }>('GET', `/api/v1/communities/${communityId}/catalogue`);
    expect(list.items.map((i) => [i.name, i.pricePoints, i.stock])).toEqual([
      ['peanut oil', 60, 1],
      ['spray bottle', 20, 3],
      ['towel', 10, 5],
    ]);

    const twice = await api.request('POST', `/api/v1/communities/${communityId}/catalogue`, { name: 'towel', pricePoints: 12, stock: 1 });
    expect(twice.status).toBe(409);
    expect(twice.body.error.message).toContain('already has an item named "towel"');
    const bad = await api.request('POST', `/api/v1/communities/${communityId}/catalogue`, { name: 'soap', pricePoints: 0 });
    expect(bad.status).toBe(400);
    expect(bad.body.error.code).toBe('validation-failed');

    // restock, take off, and an item off sale
    const soap = await api.ok<Item>('POST', `/api/v1/communities/${communityId}/catalogue`, { name: 'soap', pricePoints: 5, stock: 2 });
    expect(await api.ok('POST', `/api/v1/catalogue/${soap.id}/restock`, { delta: 3 })).toMatchObject({ stock: 5 });
    const tooMany = await api.request('POST', `/api/v1/catalogue/${soap.id}/restock`, { delta: -6 });
    expect(tooMany.status).toBe(409);
    expect(await api.ok('PATCH', `/api/v1/catalogue/${soap.id}`, { isActive: false, pricePoints: 6 })).toMatchObject({
      isActive: false,
      pricePoints: 6,
      stock: 5,
    });
    items['soap'] = soap;
    const active = await api.ok<{ items: Item[] }>('GET', `/api/v1/communities/${communityId}/catalogue?active=true`);
    expect(active.items.map((i) => i.name)).toEqual(['peanut oil', 'spray bottle', 'towel']);
  });

  let firstOrder: any;
  let alice: { residentId: string; cardUid: string };

  it('redeems a multi-line order: debits exactly the total, takes the stock, and both sides of the ledger show it', async () => {
    alice = await residentWith(150);
    const res = await redeem(alice.residentId, [
      { itemId: items['towel']!.id, quantity: 2 },
      { itemId: items['spray bottle']!.id, quantity: 1 },
    ]);
    expect(res.status).toBe(201);
    firstOrder = res.body.order;
    expect(res.body).toMatchObject({ balanceAfter: 110, isReplay: false });
    expect(firstOrder).toMatchObject({
      residentId: alice.residentId,
      communityId,
      totalPoints: 40,
      status: 'completed',
      actor: expect.stringMatching(/^staff:/),
      lines: [
        { lineNo: 1, itemName: 'towel', quantity: 2, unitPoints: 10, linePoints: 20 },
        { lineNo: 2, itemName: 'spray bottle', quantity: 1, unitPoints: 20, linePoints: 20 },
      ],
    });

    expect(await balanceOf(api, alice.residentId)).toBe(110);
    expect(await stockOf(items['towel']!.id)).toBe(3);
    expect(await stockOf(items['spray bottle']!.id)).toBe(2);

    // the resident's side: -40 to the supermarket
    const { entries } = await api.ok('GET', `/api/v1/residents/${alice.residentId}/ledger`);
    expect(entries[0]).toMatchObject({
      id: firstOrder.ledgerEntryId,
      amount: -40,
      balanceAfter: 110,
      counterparty: `supermarket:${communityId}`,
      source: 'redemption',
    });
    // the supermarket's side: the same entry credits its account
    const entry = await api.ok('GET', `/api/v1/ledger/entries/${firstOrder.ledgerEntryId}`);
    expect(JSON.stringify(entry)).toContain(`supermarket:${communityId}`);
    expect(JSON.stringify(entry)).toContain(`resident:${alice.residentId}`);

    const orders = await ordersOf(alice.residentId);
    expect(orders).toHaveLength(1);
    expect(orders[0]).toMatchObject({ id: firstOrder.id, totalPoints: 40 });
  });

  it('answers a retried redemption (same Idempotency-Key) with the first order and debits once', async () => {
    const bob = await residentWith(30, '李四');
    const key = randomUUID();
    const lines = [{ itemId: items['towel']!.id, quantity: 1 }];
    const first = await redeem(bob.residentId, lines, { 'idempotency-key': key });
    const again = await redeem(bob.residentId, lines, { 'idempotency-key': key });
    expect(first.status).toBe(201);
    expect(again.status).toBeLessThan(300);
    expect(again.body.order.id).toBe(first.body.order.id);
    expect(await balanceOf(api, bob.residentId)).toBe(20);
    expect(await ordersOf(bob.residentId)).toHaveLength(1);
    expect(await stockOf(items['towel']!.id)).toBe(2);
  });

  it('refuses an order the resident cannot pay for with 409, changing nothing', async () => {
    const carol = await residentWith(6, '王五');
    const res = await redeem(carol.residentId, [{ itemId: items['peanut oil']!.id, quantity: 1 }]);
    expect(res.status).toBe(409);
    expect(res.body.error.code).toBe('insufficient-points');
    expect(res.body.error.message).toContain('6 points');
    expect(await balanceOf(api, carol.residentId)).toBe(6);
    expect(await stockOf(items['peanut oil']!.id)).toBe(1);
    expect(await ordersOf(carol.residentId)).toEqual([]);
  });

  it('refuses more than is in stock, naming the item and what is left, changing nothing', async () => {
    const res = await redeem(alice.residentId, [
      { itemId: items['towel']!.id, quantity: 1 },
      { itemId: items['spray bottle']!.id, quantity: 3 },
    ]);
    expect(res.status).toBe(409);
    expect(res.body.error.code).toBe('out-of-stock');
    expect(res.body.error.message).toBe('only 2 of "spray bottle" left, 3 asked; lower the quantity or restock it first');
    expect(await balanceOf(api, alice.residentId)).toBe(110);
    expect(await stockOf(items['towel']!.id)).toBe(2);
    expect(await stockOf(items['spray bottle']!.id)).toBe(2);
    expect(await ordersOf(alice.residentId)).toHaveLength(1);

    const offSale = await redeem(alice.residentId, [{ itemId: items['soap']!.id, quantity: 1 }]);
    expect(offSale.status).toBe(409);
    expect(offSale.body.error.code).toBe('item-inactive');
  });

  it('sells the last item once when two clerks redeem it at the same moment', async () => {
    const dave = await residentWith(90, '赵六');
    const [a, b] = await Promise.all([
      redeem(alice.residentId, [{ itemId: items['peanut oil']!.id, quantity: 1 }]),
      redeem(dave.residentId, [{ itemId: items['peanut oil']!.id, quantity: 1 }]),
    ]);
    const statuses = [a.status, b.status].sort();
    expect(statuses).toEqual([201, 409]);
    const loser = a.status === 409 ? a : b;
    expect(loser.body.error.code).toBe('out-of-stock');
    expect(await stockOf(items['peanut oil']!.id)).toBe(0);
    const balances = [await balanceOf(api, alice.residentId), await balanceOf(api, dave.residentId)];
    // exactly one of them paid 60
    expect(balances[0]! + balances[1]!).toBe(110 + 90 - 60);
    const orders = [...(await ordersOf(alice.residentId)), ...(await ordersOf(dave.residentId))].filter((o) =>
      o.lines.some((l: { itemName: string }) => l.itemName === 'peanut oil'),
    );
    expect(orders).toHaveLength(1);
    if (a.status === 201) {
      // give Alice her 60 back for the tests below
      await api.ok('POST', `/api/v1/redemptions/${a.body.order.id}/cancel`, { reason: 'test: changed her mind' });
    }
  });

  it('cancels an order within the window: points and stock back, a reversal entry pointing at the original; a second cancel is refused', async () => {
    const towelBefore = await stockOf(items['towel']!.id);
    const sprayBefore = await stockOf(items['spray bottle']!.id);
    const balanceBefore = await balanceOf(api, alice.residentId);
    const res = await api.request('POST', `/api/v1/redemptions/${firstOrder.id}/cancel`, { reason: 'wrong towel colour' });
    expect(res.status).toBe(200);
    expect(res.body.order).toMatchObject({ id: firstOrder.id, status: 'cancelled', cancelledBy: expect.stringMatching(/^staff:/) });
    expect(res.body.reversal).toMatchObject({
      reversesEntryId: firstOrder.ledgerEntryId,
      amount: 40,
      source: 'reversal',
      debitAccount: `supermarket:${communityId}`,
      creditAccount: `resident:${alice.residentId}`,
      reason: 'wrong towel colour',
    });
    expect(await balanceOf(api, alice.residentId)).toBe(balanceBefore + 40);
    expect(await stockOf(items['towel']!.id)).toBe(towelBefore + 2);
    expect(await stockOf(items['spray bottle']!.id)).toBe(sprayBefore + 1);
    const { entries } = await api.ok('GET', `/api/v1/residents/${alice.residentId}/ledger`);
    expect(entries[0]).toMatchObject({ amount: 40, source: 'reversal', reversesEntryId: firstOrder.ledgerEntryId });

    const again = await api.request('POST', `/api/v1/redemptions/${firstOrder.id}/cancel`, { reason: 'again' });
    expect(again.status).toBe(409);
    expect(again.body.error.code).toBe('already-cancelled');
    expect(await balanceOf(api, alice.residentId)).toBe(balanceBefore + 40);
    expect(await stockOf(items['towel']!.id)).toBe(towelBefore + 2);
  });

  it('moves a gift from one resident to another, both ledgers show it, and the daily limit refuses the excess', async () => {
    const giver = await residentWith(150, '孙七');
    const receiver = await residentWith(0, '周八');
    const res = await api.request('POST', `/api/v1/residents/${giver.residentId}/gifts`, {
      toResidentId: receiver.residentId,
      amount: 30,
      note: '谢谢帮忙搬家',
    });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ givenToday: 30, dailyLimit: 100, isReplay: false });
    expect(res.body.entry).toMatchObject({
      amount: 30,
      source: 'gift',
      reason: '谢谢帮忙搬家',
      debitBalanceAfter: 120,
      creditBalanceAfter: 30,
    });
    expect(await balanceOf(api, giver.residentId)).toBe(120);
    expect(await balanceOf(api, receiver.residentId)).toBe(30);
    const giverLedger = (await api.ok('GET', `/api/v1/residents/${giver.residentId}/ledger`)).entries;
    const receiverLedger = (await api.ok('GET', `/api/v1/residents/${receiver.residentId}/ledger`)).entries;
    expect(giverLedger[0]).toMatchObject({
      id: res.body.entry.id,
      amount: -30,
      counterparty: `resident:${receiver.residentId}`,
      source: 'gift',
    });
    expect(receiverLedger[0]).toMatchObject({
      id: res.body.entry.id,
      amount: 30,
      counterparty: `resident:${giver.residentId}`,
      source: 'gift',
    });

    // up to the limit (100 a day) is fine; one point more is not
    const upTo = await api.request('POST', `/api/v1/residents/${giver.residentId}/gifts`, {
      toResidentId: receiver.residentId,
      amount: 70,
    });
    expect(upTo.status).toBe(201);
    expect(upTo.body.givenToday).toBe(100);
    const over = await api.request('POST', `/api/v1/residents/${giver.residentId}/gifts`, { toResidentId: receiver.residentId, amount: 1 });
    expect(over.status).toBe(409);
    expect(over.body.error.code).toBe('gift-limit-reached');
    expect(over.body.error.message).toContain('at most 100 points a day');
    expect(await balanceOf(api, giver.residentId)).toBe(50);
    expect(await balanceOf(api, receiver.residentId)).toBe(100);

    // the receiver has a limit of their own
    const back = await api.request('POST', `/api/v1/residents/${receiver.residentId}/gifts`, {
      toResidentId: giver.residentId,
      amount: 10,
    });
    expect(back.status).toBe(201);

    const self = await api.request('POST', `/api/v1/residents/${giver.residentId}/gifts`, { toResidentId: giver.residentId, amount: 1 });
    expect(self.status).toBe(400);
    expect(self.body.error.message).toContain('cannot give points to themselves');

    const elsewhere = await createCommunity(api, '海港社区');
    const stranger = await createResidentWithCard(api, elsewhere, '吴九');
    const far = await api.request('POST', `/api/v1/residents/${receiver.residentId}/gifts`, {
      toResidentId: stranger.residentId,
      amount: 1,
    });
    expect(far.status).toBe(422);
    expect(far.body.error.code).toBe('wrong-community');
  });

  it('shows the clerk the last tap at a counter reader: masked name and balance', async () => {
    const counterDevice = await createDevice(api, communityId, 'counter');
    const counter = await connect(counterDevice);
    const none = await api.ok('GET', `/api/v1/devices/${counter.id}/last-tap`);
    expect(none).toMatchObject({ deviceId: counter.id, tap: null });

    const balance = await balanceOf(api, alice.residentId);
    const eventId = `ev-${randomUUID()}`;
    const ack = await counter.send({ eventId, seq: 1, occurredAt: new Date().toISOString(), type: 'tap', cardUid: alice.cardUid });
    expect(ack).toMatchObject({ eventId, result: 'credited', balance });
    expect(ack.display.zh).toContain('张*丰');

    const last = await api.ok('GET', `/api/v1/devices/${counter.id}/last-tap`);
    expect(last).toMatchObject({
      deviceId: counter.id,
      tap: { eventId, cardUid: alice.cardUid, resident: { id: alice.residentId, maskedName: '张*丰', balance, pendingPoints: 0 } },
    });
    expect(JSON.stringify(last)).not.toContain('张三丰');

    const notCounter = await api.request('GET', `/api/v1/devices/${bin.id}/last-tap`);
    expect(notCounter.status).toBe(400);
    expect((await api.request('GET', '/api/v1/devices/no-such-device/last-tap')).status).toBe(404);
  });

  it("lets a clerk sell and an auditor only look, and keeps staff to their own community's shop", async () => {
    const staffWith = async (role: string, community: string | null) => {
      const user = await api.ok<{ id: string }>('POST', '/api/v1/staff', {
        name: `${role}-${randomUUID().slice(0, 6)}`,
        role,
        communityId: community,
      });
      const { token } = await api.ok<{ token: string }>('POST', `/api/v1/staff/${user.id}/tokens`, { label: 'e2e' });
      return new ApiClient(gateway.baseUrl, token);
    };
    const clerk = await staffWith('clerk', communityId);
    const auditor = await staffWith('auditor', null);
    const collector = await staffWith('credit_collector', communityId);
    const otherClerk = await staffWith('clerk', await createCommunity(api, '海港社区'));
    const erin = await residentWith(30, '郑十');
    const line = [{ itemId: items['towel']!.id, quantity: 1 }];

    const sold = await clerk.request('POST', `/api/v1/communities/${communityId}/redemptions`, {
      residentId: erin.residentId,
      lines: line,
    });
    expect(sold.status).toBe(201);
    expect(sold.body.order.actor).toMatch(/^staff:clerk-/);
    expect((await auditor.request('GET', `/api/v1/communities/${communityId}/catalogue`)).status).toBe(200);
    expect((await auditor.request('POST', `/api/v1/communities/${communityId}/catalogue`, { name: 'x', pricePoints: 1 })).status).toBe(403);
    const refused = await collector.request('POST', `/api/v1/communities/${communityId}/redemptions`, {
      residentId: erin.residentId,
      lines: line,
    });
    expect(refused.status).toBe(403);
    expect((await otherClerk.request('GET', `/api/v1/communities/${communityId}/catalogue`)).status).toBe(403);
    expect((await otherClerk.request('POST', `/api/v1/redemptions/${sold.body.order.id}/cancel`, { reason: 'x' })).status).toBe(403);
    expect(await balanceOf(api, erin.residentId)).toBe(20);
  });

  it('leaves a ledger that verifies', async () => {
    const report = await api.request('GET', `/api/v1/ledger/verify?communityId=${communityId}`);
    if (report.status === 404) return; // the verify endpoint belongs to the ledger work; skip if absent
    expect(report.body).toMatchObject({ ok: true, firstMismatch: null });
  });
});
