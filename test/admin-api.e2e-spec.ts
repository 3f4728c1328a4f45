import { ApiClient, createCommunity, createFixture, newCardUid } from './support/api-client';
import { GatewayProcess } from './support/gateway-process';
import { modeName } from './support/test-mode';

jest.setTimeout(60_000);

describe(`the admin API — ${modeName}`, () => {
  let gateway: GatewayProcess;
  let api: ApiClient;

  beforeAll(async () => {
    gateway = await GatewayProcess.start();
    api = new ApiClient(gateway.baseUrl);
  });

  afterAll(async () => {
    await gateway?.dispose();
  });

  it('is ready on /health once broker, database and subscriptions are', async () => {
    const res = await fetch(`${gateway.baseUrl}/health`);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ status: 'ready', broker: true, database: true, subscriptions: true });
  });

  it('refuses a missing or wrong token with 401 and says what to send', async () => {
    const missing = await new ApiClient(gateway.baseUrl, null).request('GET', '/api/v1/dead-letters');
    expect(missing.status).toBe(401);
    expect(missing.body.error.code).toBe('unauthorized');
    expect(missing.body.error.message).toContain('Authorization: Bearer');
    const wrong = await new ApiClient(gateway.baseUrl, 'wrong-token-wrong-token-wrong').request('POST', '/api/v1/communities', {
      name: 'x',
    });
    expect(wrong.status).toBe(401);
    expect(wrong.body.error.code).toBe('unauthorized');
  });

  it('creates a community with Asia/Shanghai as the default time zone', async () => {
    const res = await api.request('POST', '/api/v1/communities', { name: '滨海新区一社区' });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ name: '滨海新区一社区', timezone: 'Asia/Shanghai' });
    expect(res.body.depositPointsPerUnit.lithium).toBe(3);
  });

  it.each([
    [{ name: '' }, 'name'],
    [{ name: 'x', timezone: 'Mars/Olympus' }, 'timezone'],
    [{ name: 'x', depositPointsPerUnit: { lithium: 1.5 } }, 'depositPointsPerUnit.lithium'],
    [{}, 'name'],
  ])('answers a bad community body %j with 400 naming %s', async (body, field) => {
    const res = await api.request('POST', '/api/v1/communities', body);
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('validation-failed');
    expect(res.body.error.details.fields.map((f: { field: string }) => f.field)).toContain(field);
  });

  it('answers a body that is not JSON with 400 invalid-json', async () => {
    const res = await api.request('POST', '/api/v1/communities', '{"name": ', { 'content-type': 'application/json' });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('invalid-json');
  });

  it('refuses a resident for a community that does not exist', async () => {
    const res = await api.request('POST', '/api/v1/residents', { communityId: '00000000-0000-4000-8000-000000000000', name: '李四' });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('unknown-community');
  });

  it('binds a card typed in lower case with separators, and refuses it for a second resident with 409', async () => {
    const fixture = await createFixture(api);
    const other = await api.ok('POST', '/api/v1/residents', { communityId: fixture.communityId, name: '王五' });
    const uid = newCardUid();
    const typed = uid.toLowerCase().match(/../g)!.join(':');

    const bound = await api.request('POST', `/api/v1/residents/${other.id}/cards`, { uid: typed });
    expect(bound.status).toBe(201);
    expect(bound.body.uid).toBe(uid);
    const again = await api.request('POST', `/api/v1/residents/${other.id}/cards`, { uid });
    expect(again.status).toBe(201); // same resident, same card: nothing changes

    const taken = await api.request('POST', `/api/v1/residents/${fixture.residentId}/cards`, { uid });
    expect(taken.status).toBe(409);
    expect(taken.body.error.code).toBe('card-already-bound');
    expect((await api.ok('GET', `/api/v1/residents/${other.id}`)).cards).toEqual([uid]);
  });

  it('rejects a card uid that is not 4, 7 or 10 bytes of hex', async () => {
    const fixture = await createFixture(api);
    const res = await api.request('POST', `/api/v1/residents/${fixture.residentId}/cards`, { uid: 'ABCDEF' });
    expect(res.status).toBe(400);
    expect(res.body.error.message).toContain('uid');
  });

  it('shows a device password only when the device is created', async () => {
    const communityId = await createCommunity(api);
    const created = await api.request('POST', '/api/v1/devices', {
      kind: 'bin',
      communityId,
      id: `bin-${Date.now()}`,
      label: '3号楼电池回收箱',
    });
    expect(created.status).toBe(201);
    expect(created.body.mqtt.password.length).toBeGreaterThanOrEqual(24);
    const shown = await api.ok('GET', `/api/v1/devices/${created.body.id}`);
    expect(JSON.stringify(shown)).not.toContain(created.body.mqtt.password);
    expect(shown).not.toHaveProperty('passwordHash');
    expect(shown).toMatchObject({ kind: 'bin', label: '3号楼电池回收箱', isActive: true });

    const duplicate = await api.request('POST', '/api/v1/devices', { kind: 'bin', communityId, id: created.body.id });
    expect(duplicate.status).toBe(409);
    expect(duplicate.body.error.code).toBe('device-id-taken');
  });

  it('answers 404 with the error shape for unknown ids', async () => {
    for (const path of ['/api/v1/residents/00000000-0000-4000-8000-000000000000', '/api/v1/residents/not-a-uuid', '/api/v1/devices/nope']) {
      const res = await api.request('GET', path);
      expect(res.status).toBe(404);
      expect(res.body.error.code).toBe('not-found');
    }
  });

  it('serves the OpenAPI document with bearer auth and the resident routes', async () => {
    const res = await fetch(`${gateway.baseUrl}/api/docs/openapi.json`);
    expect(res.status).toBe(200);
    const doc = (await res.json()) as { paths: Record<string, unknown>; components: { securitySchemes: Record<string, unknown> } };
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining(['/api/v1/residents', '/api/v1/residents/{id}/cards', '/api/v1/devices', '/health']),
    );
    expect(doc.components.securitySchemes).toHaveProperty('bearer');
    expect((await fetch(`${gateway.baseUrl}/api/docs`)).status).toBe(200);
  });
});
