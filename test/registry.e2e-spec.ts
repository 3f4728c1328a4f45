import { ApiClient, createCommunity, newCardUid } from './support/api-client';
import { GatewayProcess } from './support/gateway-process';
import { modeName } from './support/test-mode';

jest.setTimeout(60_000);

describe(`the registry: buildings, households, moves and the card lifecycle — ${modeName}`, () => {
  let gateway: GatewayProcess;
  let api: ApiClient;
  let communityId: string;

  beforeAll(async () => {
    gateway = await GatewayProcess.start();
    api = new ApiClient(gateway.baseUrl);
    communityId = await createCommunity(api, '滨海新区一社区');
  });

  afterAll(async () => {
    await gateway?.dispose();
  });

  const building = async (name: string) =>
    (await api.ok<{ id: string }>('POST', `/api/v1/communities/${communityId}/buildings`, { name })).id;
  const household = async (name: string, buildingId?: string) =>
    (await api.ok<{ id: string }>('POST', `/api/v1/communities/${communityId}/households`, { name, ...(buildingId ? { buildingId } : {}) }))
      .id;
  const resident = async (name: string, householdId?: string) =>
    (await api.ok<{ id: string }>('POST', '/api/v1/residents', { communityId, name, ...(householdId ? { householdId } : {}) })).id;
  const bind = (residentId: string, uid: string) => api.request('POST', `/api/v1/residents/${residentId}/cards`, { uid });

  describe('buildings and households', () => {
    it('answers a building with its households and a household with its residents', async () => {
      const b3 = await building('3号楼');
      const h201 = await household('3-2-201', b3);
      const h202 = await household('3-2-202', b3);
      const zhang = await resident('张三', h201);

      const b = await api.ok('GET', `/api/v1/buildings/${b3}`);
      expect(b.households.map((h: { id: string; name: string; residentCount: number }) => [h.id, h.name, h.residentCount])).toEqual([
        [h201, '3-2-201', 1],
        [h202, '3-2-202', 0],
      ]);
      const h = await api.ok('GET', `/api/v1/households/${h201}`);
      expect(h).toMatchObject({ name: '3-2-201', buildingId: b3, buildingName: '3号楼' });
      expect(h.residents.map((r: { id: string }) => r.id)).toEqual([zhang]);
    });

    it('gives a resident its household and building, by id and by name', async () => {
      const b = await building('5号楼');
      const h = await household('5-1-101', b);
      const id = await resident('李四', h);
      expect(await api.ok('GET', `/api/v1/residents/${id}`)).toMatchObject({
        householdId: h,
        householdName: '5-1-101',
        buildingId: b,
        buildingName: '5号楼',
      });
      const alone = await resident('王五');
      expect(await api.ok('GET', `/api/v1/residents/${alone}`)).toMatchObject({ householdId: null, buildingId: null });
    });

    it('refuses a second building or household of the same name with 409, naming the existing one', async () => {
      const id = await building('7号楼');
      const again = await api.request('POST', `/api/v1/communities/${communityId}/buildings`, { name: '7号楼' });
      expect(again.status).toBe(409);
      expect(again.body.error.details.id).toBe(id);
      await household('7-1-101');
      expect((await api.request('POST', `/api/v1/communities/${communityId}/households`, { name: '7-1-101' })).status).toBe(409);
    });

    it('lists the community’s buildings and households', async () => {
      const list = await api.ok('GET', `/api/v1/communities/${communityId}/buildings`);
      expect(list.buildings.map((b: { name: string }) => b.name)).toEqual(expect.arrayContaining(['3号楼', '5号楼', '7号楼']));
      const households = await api.ok('GET', `/api/v1/communities/${communityId}/households`);
      expect(households.households.map((h: { name: string }) => h.name)).toEqual(expect.arrayContaining(['3-2-201', '5-1-101', '7-1-101']));
    });
  });

  describe('moves', () => {
    it('closes the old residence, opens the new one and keeps the history', async () => {
      const from = await household('8-1-101');
      const to = await household('8-1-102');
      const id = await resident('赵六', from);

      const moved = await api.request('POST', `/api/v1/residents/${id}/move`, { householdId: to });
      expect(moved.status).toBe(200);
      expect(moved.body).toMatchObject({ isChanged: true, residence: { householdId: to, householdName: '8-1-102', toAt: null } });

      const history = (await api.ok('GET', `/api/v1/residents/${id}/residences`)).residences;
      expect(history).toHaveLength(2);
      expect(history[0]).toMatchObject({ householdId: from, actor: 'staff:bootstrap' });
      expect(history[0].toAt).not.toBeNull();
      expect(history[1]).toMatchObject({ householdId: to, toAt: null });
      expect(history[0].toAt).toBe(history[1].fromAt);

      expect((await api.ok('GET', `/api/v1/residents/${id}`)).householdId).toBe(to);
      expect((await api.ok('GET', `/api/v1/households/${from}`)).residents).toEqual([]);
      expect((await api.ok('GET', `/api/v1/households/${to}`)).residents.map((r: { id: string }) => r.id)).toEqual([id]);
    });

    it('changes nothing when moving to the household the resident lives in', async () => {
      const h = await household('8-1-103');
      const id = await resident('孙七', h);
      const again = await api.ok('POST', `/api/v1/residents/${id}/move`, { householdId: h });
      expect(again.isChanged).toBe(false);
      expect((await api.ok('GET', `/api/v1/residents/${id}/residences`)).residences).toHaveLength(1);
    });

    it('moves a resident registered without a household into one', async () => {
      const id = await resident('周八');
      const h = await household('8-1-104');
      await api.ok('POST', `/api/v1/residents/${id}/move`, { householdId: h });
      const history = (await api.ok('GET', `/api/v1/residents/${id}/residences`)).residences;
      expect(history.map((r: { householdId: string; toAt: string | null }) => [r.householdId, r.toAt])).toEqual([[h, null]]);
    });

    it('refuses a household of another community and keeps the resident where they are', async () => {
      const h = await household('8-1-105');
      const id = await resident('吴九', h);
      const elsewhere = await createCommunity(api, '另一社区');
      const foreign = (await api.ok('POST', `/api/v1/communities/${elsewhere}/households`, { name: '1-1-101' })).id;
      const res = await api.request('POST', `/api/v1/residents/${id}/move`, { householdId: foreign });
      expect(res.status).toBe(400);
      expect((await api.ok('GET', `/api/v1/residents/${id}`)).householdId).toBe(h);
      expect((await api.ok('GET', `/api/v1/residents/${id}/residences`)).residences).toHaveLength(1);
    });
  });

  describe('the card lifecycle', () => {
    it('binds a card and says what held deposits it claimed', async () => {
      const id = await resident('郑十');
      const uid = newCardUid();
      const res = await bind(id, uid);
      expect(res.status).toBe(201);
      expect(res.body).toMatchObject({ uid, residentId: id, status: 'active', isChanged: true, claims: { claimed: 0, points: 0 } });
      const card = await api.ok('GET', `/api/v1/cards/${uid}`);
      expect(card.history).toMatchObject([{ action: 'bound', residentId: id, actor: 'staff:bootstrap' }]);
    });

    it('reports a card lost: blocked at once, with who and why in its history', async () => {
      const id = await resident('钱十一');
      const uid = newCardUid();
      await bind(id, uid);
      const lost = await api.request('POST', `/api/v1/cards/${uid.toLowerCase()}/report-lost`, { reason: '居民电话挂失' });
      expect(lost.status).toBe(200);
      expect(lost.body).toMatchObject({ uid, status: 'lost', isChanged: true });

      const card = await api.ok('GET', `/api/v1/cards/${uid}`);
      expect(card.status).toBe('lost');
      expect(card.holder).toEqual({ residentId: id, communityId, maskedName: '钱*一' });
      expect(card.history.map((h: { action: string; reason: string | null; actor: string }) => [h.action, h.reason, h.actor])).toEqual([
        ['bound', null, 'staff:bootstrap'],
        ['reported_lost', '居民电话挂失', 'staff:bootstrap'],
      ]);
      // The resident's active cards no longer include it; the card list shows it as lost.
      expect((await api.ok('GET', `/api/v1/residents/${id}`)).cards).toEqual([]);
      expect((await api.ok('GET', `/api/v1/residents/${id}/cards`)).cards).toMatchObject([{ uid, status: 'lost' }]);

      const twice = await api.ok('POST', `/api/v1/cards/${uid}/report-lost`, {});
      expect(twice.isChanged).toBe(false);
      expect((await api.ok('GET', `/api/v1/cards/${uid}`)).history).toHaveLength(2);
    });

    it('replaces a lost card: the new uid goes to the same resident, the old one points to it', async () => {
      const id = await resident('冯十二');
      const old = newCardUid();
      const next = newCardUid();
      await bind(id, old);
      await api.ok('POST', `/api/v1/cards/${old}/report-lost`, {});
      const res = await api.request('POST', `/api/v1/cards/${old}/replace`, { newUid: next, reason: '补卡' });
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({
        card: { uid: old, status: 'replaced', replacedByUid: next },
        replacement: { uid: next, residentId: id, status: 'active' },
        isChanged: true,
        claims: { claimed: 0, points: 0 },
      });
      expect((await api.ok('GET', `/api/v1/residents/${id}`)).cards).toEqual([next]);
      const history = (await api.ok('GET', `/api/v1/cards/${old}`)).history;
      expect(history.map((h: { action: string }) => h.action)).toEqual(['bound', 'reported_lost', 'replaced']);
      expect(history[2]).toMatchObject({ replacementUid: next, reason: '补卡' });
      expect((await api.ok('GET', `/api/v1/cards/${next}`)).history).toMatchObject([{ action: 'bound', residentId: id }]);

      // The retired card cannot come back to its holder by a bind.
      const rebind = await bind(id, old);
      expect(rebind.status).toBe(409);
      expect(rebind.body.error.code).toBe('card-not-active');
    });

    it('refuses a replacement uid that another resident holds, and changes nothing', async () => {
      const a = await resident('陈十三');
      const b = await resident('褚十四');
      const aCard = newCardUid();
      const bCard = newCardUid();
      await bind(a, aCard);
      await bind(b, bCard);
      const res = await api.request('POST', `/api/v1/cards/${aCard}/replace`, { newUid: bCard });
      expect(res.status).toBe(409);
      expect(res.body.error.code).toBe('card-already-bound');
      expect((await api.ok('GET', `/api/v1/cards/${aCard}`)).status).toBe('active');
      expect((await api.ok('GET', `/api/v1/cards/${bCard}`)).residentId).toBe(b);
    });

    it('refuses a card held by another resident with 409 card-already-bound, even a lost one', async () => {
      const a = await resident('卫十五');
      const b = await resident('蒋十六');
      const uid = newCardUid();
      await bind(a, uid);
      const taken = await bind(b, uid);
      expect(taken.status).toBe(409);
      expect(taken.body.error).toMatchObject({ code: 'card-already-bound', details: { uid, residentId: a, status: 'active' } });
      await api.ok('POST', `/api/v1/cards/${uid}/report-lost`, {});
      expect((await bind(b, uid)).status).toBe(409);
      expect((await api.ok('GET', `/api/v1/cards/${uid}`)).residentId).toBe(a);
    });

    it('unbinds a card, which may then be bound to another resident', async () => {
      const a = await resident('沈十七');
      const b = await resident('韩十八');
      const uid = newCardUid();
      await bind(a, uid);
      const unbound = await api.request('POST', `/api/v1/cards/${uid}/unbind`, { reason: '搬离社区' });
      expect(unbound.status).toBe(200);
      expect(unbound.body).toMatchObject({ status: 'unbound', residentId: a });
      expect((await api.ok('GET', `/api/v1/residents/${a}`)).cards).toEqual([]);

      const rebound = await bind(b, uid);
      expect(rebound.status).toBe(201);
      expect(rebound.body).toMatchObject({ residentId: b, status: 'active', isChanged: true });
      expect((await api.ok('GET', `/api/v1/residents/${b}`)).cards).toEqual([uid]);
      const card = await api.ok('GET', `/api/v1/cards/${uid}`);
      expect(card.holder.residentId).toBe(b);
      expect(card.history.map((h: { action: string; residentId: string }) => [h.action, h.residentId])).toEqual([
        ['bound', a],
        ['unbound', a],
        ['bound', b],
      ]);
    });

    it('answers an unknown card with 404 and a malformed uid with 404 too', async () => {
      expect((await api.request('GET', `/api/v1/cards/${newCardUid()}`)).status).toBe(404);
      expect((await api.request('POST', '/api/v1/cards/nonsense/report-lost', {})).status).toBe(404);
    });
  });
});
