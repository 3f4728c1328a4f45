import { ApiClient, balanceOf, createCommunity, createDevice, createResidentWithCard, newCardUid } from './support/api-client';
import { GatewayProcess } from './support/gateway-process';
import { TestDevice } from './support/test-device';
import { modeName } from './support/test-mode';

jest.setTimeout(60_000);

interface Entry {
  id: string;
  kind: string;
  amount: number;
  debitAccount: string;
  creditAccount: string;
  creditBalanceAfter: number | null;
  debitBalanceAfter: number | null;
  pendingEntryId: string | null;
  reversesEntryId: string | null;
  source: string;
  actor: string;
  reason: string | null;
  chainSeq: string;
  hash: string;
}

describe(`the ledger: double entry, pending review, reversals, verify — ${modeName}`, () => {
  let gateway: GatewayProcess;
  let api: ApiClient;
  const devices: TestDevice[] = [];

  beforeAll(async () => {
    gateway = await GatewayProcess.start();
    api = new ApiClient(gateway.baseUrl);
  });

  afterAll(async () => {
    await Promise.all(devices.map((d) => d.close()));
    await gateway?.dispose();
  });

  const resident = async () => {
    const communityId = await createCommunity(api);
    const { residentId, cardUid } = await createResidentWithCard(api, communityId, '王小明');
    return { communityId, residentId, cardUid };
  };
  const credit = (residentId: string, body: object, headers: Record<string, string> = {}) =>
    api.request<{ entry: Entry; isReplay: boolean }>('POST', `/api/v1/residents/${residentId}/credits`, body, headers);
  const pointsOf = async (residentId: string) =>
    api.ok<{ balance: number; pendingPoints: number }>('GET', `/api/v1/residents/${residentId}`);

  it('posts a manual credit from the issuance account, with reason and actor, as one balanced entry', async () => {
    const { communityId, residentId } = await resident();
    const res = await credit(residentId, { amount: 15, reason: '社区清扫志愿 / volunteer clean-up' });
    expect(res.status).toBe(201);
    expect(res.body.entry).toMatchObject({
      kind: 'posted',
      amount: 15,
      debitAccount: `issuance:${communityId}`,
      creditAccount: `resident:${residentId}`,
      creditBalanceAfter: 15,
      debitBalanceAfter: null,
      source: 'manual',
      reason: '社区清扫志愿 / volunteer clean-up',
      chainSeq: '1',
    });
    expect(res.body.entry.actor).toMatch(/^staff:/);
    expect(res.body.entry.hash).toMatch(/^[0-9a-f]{64}$/);
    expect(await balanceOf(api, residentId)).toBe(15);
  });

  it('posts once for a retried call with the same Idempotency-Key', async () => {
    const { residentId } = await resident();
    const key = `retry-${Date.now()}`;
    const first = await credit(residentId, { amount: 7, reason: 'desk' }, { 'idempotency-key': key });
    const second = await credit(residentId, { amount: 7, reason: 'desk' }, { 'idempotency-key': key });
    expect(first.status).toBe(201);
    expect(second.status).toBe(201);
    expect(second.body.entry.id).toBe(first.body.entry.id);
    expect(await balanceOf(api, residentId)).toBe(7);
  });

  it('keeps pending points visible but unspendable until settled; voided ones never arrive', async () => {
    const { communityId, residentId } = await resident();
    const a = (await credit(residentId, { amount: 10, reason: 'activity A', pending: true })).body.entry;
    const b = (await credit(residentId, { amount: 4, reason: 'activity B', pending: true })).body.entry;
    expect(a.kind).toBe('pending');
    expect(await pointsOf(residentId)).toMatchObject({ balance: 0, pendingPoints: 14 });

    const queue = await api.ok<{ entries: Entry[] }>('GET', `/api/v1/ledger/pending?communityId=${communityId}`);
    expect(queue.entries.map((e) => e.id)).toEqual([a.id, b.id]);

    const settled = await api.request('POST', '/api/v1/ledger/pending/settle', { entryIds: [a.id], reason: '审核通过' });
    expect(settled.status).toBe(200);
    const voided = await api.request('POST', '/api/v1/ledger/pending/void', { entryIds: [b.id], reason: '未到场' });
    expect(voided.status).toBe(200);
    expect(await pointsOf(residentId)).toMatchObject({ balance: 10, pendingPoints: 0 });
    expect((await api.ok<{ entries: Entry[] }>('GET', `/api/v1/ledger/pending?communityId=${communityId}`)).entries).toEqual([]);

    const again = await api.request('POST', '/api/v1/ledger/pending/settle', { entryIds: [b.id], reason: 'again' });
    expect(again.status).toBe(409);
    expect(again.body.error.code).toBe('already-closed');
    expect(await pointsOf(residentId)).toMatchObject({ balance: 10, pendingPoints: 0 });
  });

  it('settles in bulk all or nothing: one bad id leaves every entry pending', async () => {
    const { residentId } = await resident();
    const a = (await credit(residentId, { amount: 3, reason: 'x', pending: true })).body.entry;
    const posted = (await credit(residentId, { amount: 5, reason: 'y' })).body.entry;
    const res = await api.request('POST', '/api/v1/ledger/pending/settle', { entryIds: [a.id, posted.id], reason: 'bulk' });
    expect(res.status).toBe(409);
    expect(res.body.error.message).toContain(posted.id);
    expect(await pointsOf(residentId)).toMatchObject({ balance: 5, pendingPoints: 3 });
  });

  it('corrects with a reversal that points at the original, and refuses a second one', async () => {
    const { communityId, residentId } = await resident();
    const original = (await credit(residentId, { amount: 20, reason: 'typo: should have been 2' })).body.entry;
    const res = await api.request<{ entry: Entry }>('POST', `/api/v1/ledger/entries/${original.id}/reverse`, { reason: '录入错误' });
    expect(res.status).toBe(201);
    expect(res.body.entry).toMatchObject({
      kind: 'posted',
      source: 'reversal',
      reversesEntryId: original.id,
      debitAccount: `resident:${residentId}`,
      creditAccount: `issuance:${communityId}`,
      amount: 20,
      debitBalanceAfter: 0,
    });
    const twice = await api.request('POST', `/api/v1/ledger/entries/${original.id}/reverse`, { reason: 'again' });
    expect(twice.status).toBe(409);
    expect(twice.body.error.code).toBe('already-reversed');
    expect(await balanceOf(api, residentId)).toBe(0);
  });

  it('refuses a reversal that would take the resident below zero, and changes nothing', async () => {
    const { residentId } = await resident();
    const original = (await credit(residentId, { amount: 8, reason: 'a' })).body.entry;
    const other = await resident();
    // Spend it: reversing the other way round is the only debit available before the supermarket.
    const spend = (await credit(residentId, { amount: 1, reason: 'b' })).body.entry;
    await api.ok('POST', `/api/v1/ledger/entries/${spend.id}/reverse`, { reason: 'undo b' });
    await api.ok('POST', `/api/v1/ledger/entries/${original.id}/reverse`, { reason: 'undo a' });
    const res = await api.request('POST', `/api/v1/ledger/entries/${spend.id}/reverse`, { reason: 'again' });
    expect(res.status).toBe(409);
    expect(await balanceOf(api, residentId)).toBe(0);
    expect(await balanceOf(api, other.residentId)).toBe(0);
  });

  it('verifies every chain and balance after deposits and staff work', async () => {
    const { communityId, residentId, cardUid } = await resident();
    const bin = await createDevice(api, communityId);
    const device = await TestDevice.connectRegistered(gateway.mqttUrl, bin);
    devices.push(device);
    for (let i = 0; i < 5; i++) await device.send(device.deposit(cardUid));
    await credit(residentId, { amount: 2, reason: 'desk' });
    const report = await api.ok<{ ok: boolean; entriesChecked: number; firstMismatch: unknown }>(
      'GET',
      `/api/v1/ledger/verify?communityId=${communityId}`,
    );
    expect(report).toMatchObject({ ok: true, entriesChecked: 6, firstMismatch: null });
  });

  it('credits deposits held for an unknown card once the card is bound, each once', async () => {
    const communityId = await createCommunity(api);
    const bin = await createDevice(api, communityId);
    const device = await TestDevice.connectRegistered(gateway.mqttUrl, bin);
    devices.push(device);
    const uid = newCardUid();
    const held = await device.send(device.deposit(uid, { items: [{ kind: 'lithium', count: 2 }] }));
    expect(held).toMatchObject({ result: 'pending', reason: 'unknown-card', points: 6 });

    const owner = await api.ok<{ id: string }>('POST', '/api/v1/residents', { communityId, name: '李四' });
    await api.ok('POST', `/api/v1/residents/${owner.id}/cards`, { uid });
    expect(await balanceOf(api, owner.id)).toBe(6);
    const { entries } = await api.ok<{ entries: { amount: number; source: string }[] }>('GET', `/api/v1/residents/${owner.id}/ledger`);
    expect(entries).toEqual([expect.objectContaining({ amount: 6, source: 'device_event' })]);
  });

  it('rejects deposits with a lost card as card-blocked and keeps them; an unbound card’s deposits are held for the next holder', async () => {
    const { communityId, residentId, cardUid } = await resident();
    const bin = await createDevice(api, communityId);
    const device = await TestDevice.connectRegistered(gateway.mqttUrl, bin);
    devices.push(device);
    await api.ok('POST', `/api/v1/cards/${cardUid}/report-lost`, { reason: '丢失 / lost on the bus' });
    const blocked = await device.send(device.deposit(cardUid));
    expect(blocked).toMatchObject({ result: 'rejected', reason: 'card-blocked', points: 0 });
    expect(await balanceOf(api, residentId)).toBe(0);
    const stored = await api.ok<{ eventsByResult: Record<string, number> }>('GET', `/api/v1/devices/${bin.id}`);
    expect(stored.eventsByResult).toMatchObject({ rejected: 1 });

    const other = await resident();
    await api.ok('POST', `/api/v1/cards/${other.cardUid}/unbind`, { reason: 'moved away' });
    const held = await device.send(device.deposit(other.cardUid));
    expect(held).toMatchObject({ result: 'pending', reason: 'unknown-card' });
    expect(await balanceOf(api, other.residentId)).toBe(0);
  });

  it('lets staff of one community post and read points only there', async () => {
    const home = await resident();
    const away = await resident();
    const user = await api.ok<{ id: string }>('POST', '/api/v1/staff', {
      name: `credit.${Date.now()}`,
      role: 'credit_admin',
      communityId: home.communityId,
    });
    const { token } = await api.ok<{ token: string }>('POST', `/api/v1/staff/${user.id}/tokens`, { label: 'desk' });
    const staff = new ApiClient(gateway.baseUrl, token);

    const ok = await staff.request<{ entry: Entry }>('POST', `/api/v1/residents/${home.residentId}/credits`, { amount: 3, reason: 'desk' });
    expect(ok.status).toBe(201);
    const refused = await staff.request('POST', `/api/v1/residents/${away.residentId}/credits`, { amount: 3, reason: 'desk' });
    expect(refused.status).toBe(403);
    expect(refused.body.error.code).toBe('forbidden');
    expect(await balanceOf(api, away.residentId)).toBe(0);

    const awayEntry = (await credit(away.residentId, { amount: 5, reason: 'by the district' })).body.entry;
    expect((await staff.request('POST', `/api/v1/ledger/entries/${awayEntry.id}/reverse`, { reason: 'x' })).status).toBe(403);
    expect((await staff.request('GET', `/api/v1/ledger/entries/${awayEntry.id}`)).status).toBe(403);
    expect((await staff.request('GET', `/api/v1/ledger/pending?communityId=${away.communityId}`)).status).toBe(403);
    expect(await balanceOf(api, away.residentId)).toBe(5);
    const own = await staff.request<{ ok: boolean; communities: number }>('GET', '/api/v1/ledger/verify');
    expect(own.body).toMatchObject({ ok: true, communities: 1 });
  });
});
