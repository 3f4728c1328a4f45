import { randomBytes, randomUUID } from 'node:crypto';
import { ApiClient, createCommunity } from './support/api-client';
import { GatewayProcess, TEST_ADMIN_TOKEN } from './support/gateway-process';
import { modeName } from './support/test-mode';

jest.setTimeout(120_000);

type Role = 'admin' | 'credit_admin' | 'credit_collector' | 'clerk' | 'operator' | 'auditor';
const ROLES: Role[] = ['admin', 'credit_admin', 'credit_collector', 'clerk', 'operator', 'auditor'];

/**
 * The access policy of the routes this suite pins, one row per route: who
 * besides admin may call it. Every other route of the app is checked against
 * the roles it declares (`x-roles` in the OpenAPI document, from its @Roles);
 * a route that declares none is admin's only.
 */
const ACCESS: Record<string, Role[] | 'public' | 'broker'> = {
  'GET /health': 'public',
  'GET /health/live': 'public',
  'GET /health/ready': 'public',
  // Prometheus scrapes with METRICS_TOKEN or the token of whoever watches the fleet.
  'GET /metrics': ['operator', 'auditor'],
  // Staff and access: the administrator's work; the auditor reads the audit log.
  'POST /api/v1/staff': [],
  'GET /api/v1/staff': [],
  'PATCH /api/v1/staff/{id}': [],
  'POST /api/v1/staff/{id}/tokens': [],
  'DELETE /api/v1/staff/{id}/tokens/{tokenId}': [],
  'GET /api/v1/audit-log': ['auditor'],
  // Communities: set up by admin, read by everyone who works in one.
  'POST /api/v1/communities': [],
  'GET /api/v1/communities/{id}': ['credit_admin', 'credit_collector', 'clerk', 'operator', 'auditor'],
  // Residents: registered by the credit staff, looked up by the clerk, read by the auditor.
  'POST /api/v1/residents': ['credit_admin', 'credit_collector'],
  'GET /api/v1/residents/{id}': ['credit_admin', 'credit_collector', 'clerk', 'auditor'],
  'POST /api/v1/residents/{id}/cards': ['credit_admin', 'credit_collector'],
  'GET /api/v1/residents/{id}/ledger': ['credit_admin', 'credit_collector', 'clerk', 'auditor'],
  // Devices: operations provisions and watches them.
  'POST /api/v1/devices': ['operator'],
  'GET /api/v1/devices/{id}': ['operator', 'auditor'],
  'PATCH /api/v1/devices/{id}': ['operator'],
  'GET /api/v1/dead-letters': ['operator', 'auditor'],
  // Device fleet (issue #6 part A): credentials, provisioning keys and commands are operations' work.
  'POST /api/v1/devices/{id}/credentials': ['operator'],
  'POST /api/v1/devices/{id}/retire': ['operator'],
  'POST /api/v1/communities/{id}/devices/import': ['operator'],
  'GET /api/v1/fleet/auth-failures': ['operator'],
  'POST /api/v1/communities/{id}/provisioning-keys': ['operator'],
  'GET /api/v1/communities/{id}/provisioning-keys': ['operator', 'auditor'],
  'DELETE /api/v1/provisioning-keys/{id}': ['operator'],
  'POST /api/v1/devices/{id}/commands': ['operator'],
  'GET /api/v1/devices/{id}/commands': ['operator', 'auditor'],
  // The broker's HTTP auth callbacks (EMQX): no staff token; the shared secret header instead.
  'POST /api/v1/broker-auth/authenticate': 'broker',
  'POST /api/v1/broker-auth/authorize': 'broker',
};

/** A well-formed id of nothing: allowed calls get 400/404, none changes anything. */
const NO_SUCH_ID = '00000000-0000-4000-8000-000000000000';

interface RawResponse {
  status: number;
  headers: Headers;
  body: any;
}

async function call(
  baseUrl: string,
  token: string | null,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<RawResponse> {
  const res = await fetch(`${baseUrl}${path}`, {
    method,
    headers: {
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      ...headers,
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  // A live stream (server-sent events) never ends: its status is the answer.
  if (res.headers.get('content-type')?.startsWith('text/event-stream')) {
    await res.body?.cancel();
    return { status: res.status, headers: res.headers, body: undefined };
  }
  const text = await res.text();
  const isJson = res.headers.get('content-type')?.includes('json') ?? false;
  return { status: res.status, headers: res.headers, body: text && isJson ? JSON.parse(text) : text || undefined };
}

describe(`staff, roles and access — ${modeName}`, () => {
  let gateway: GatewayProcess;
  let admin: ApiClient;
  let communityId: string;
  /** One staff user per role, each with a token. */
  const staff = {} as Record<Role, { id: string; name: string; token: string }>;

  async function createStaff(role: Role, name = `${role}-${randomBytes(3).toString('hex')}`) {
    const user = await admin.ok<{ id: string; name: string }>('POST', '/api/v1/staff', { name, role, displayName: `测试 ${role}` });
    const issued = await admin.ok<{ id: string; token: string }>('POST', `/api/v1/staff/${user.id}/tokens`, { label: 'e2e' });
    return { id: user.id, name: user.name, token: issued.token, tokenId: issued.id };
  }

  beforeAll(async () => {
    gateway = await GatewayProcess.start();
    admin = new ApiClient(gateway.baseUrl);
    communityId = await createCommunity(admin);
    for (const role of ROLES) staff[role] = await createStaff(role);
  });

  afterAll(async () => {
    await gateway?.dispose();
  });

  describe('the role matrix over every route of the OpenAPI document', () => {
    let routes: { method: string; path: string; declared: Role[] }[];

    beforeAll(async () => {
      const doc = (await (await fetch(`${gateway.baseUrl}/api/docs/openapi.json`)).json()) as {
        paths: Record<string, Record<string, { 'x-roles'?: Role[] }>>;
      };
      routes = Object.entries(doc.paths).flatMap(([path, operations]) =>
        Object.entries(operations)
          .filter(([m]) => ['get', 'post', 'put', 'patch', 'delete'].includes(m))
          .map(([m, operation]) => ({ method: m.toUpperCase(), path, declared: operation['x-roles'] ?? [] })),
      );
    });

    it('finds the routes of this issue in the document, each declaring the roles of its row', () => {
      const names = routes.map((r) => `${r.method} ${r.path}`);
      expect(names).toEqual(
        expect.arrayContaining([
          'POST /api/v1/staff',
          'DELETE /api/v1/staff/{id}/tokens/{tokenId}',
          'GET /api/v1/audit-log',
          'GET /health',
        ]),
      );
      // The API docs show each pinned route's roles as this table has them.
      for (const { method, path, declared } of routes) {
        const row = ACCESS[`${method} ${path}`];
        if (row === undefined || row === 'public' || row === 'broker') continue;
        expect({ route: `${method} ${path}`, roles: declared.filter((r) => r !== 'admin').sort() }).toEqual({
          route: `${method} ${path}`,
          roles: [...row].sort(),
        });
      }
    });

    it('lets each role call exactly the routes of its row, refuses the others with 403 forbidden, and everyone without a token with 401', async () => {
      const wrong: string[] = [];
      for (const { method, path, declared } of routes) {
        const name = `${method} ${path}`;
        const policy = ACCESS[name] ?? declared;
        const url = path.replace(/\{[^}]+\}/g, NO_SUCH_ID);
        const body = method === 'GET' ? undefined : {};
        const anonymous = await call(gateway.baseUrl, null, method, url, body);
        if (policy === 'broker') {
          // No shared secret (this gateway has none set): refused, whoever asks, staff tokens included.
          const admin = await call(gateway.baseUrl, TEST_ADMIN_TOKEN, method, url, body);
          if (anonymous.status !== 401 || admin.status !== 401) wrong.push(`${name}: without the broker secret expected 401`);
          continue;
        }
        if (policy === 'public') {
          if ([401, 403].includes(anonymous.status)) wrong.push(`${name}: public, but anonymous got ${anonymous.status}`);
          continue;
        }
        if (anonymous.status !== 401) wrong.push(`${name}: anonymous got ${anonymous.status}, expected 401`);
        const callers: [string, Role, string][] = [
          ['bootstrap admin', 'admin', TEST_ADMIN_TOKEN],
          ...ROLES.map((role): [string, Role, string] => [role, role, staff[role].token]),
        ];
        for (const [who, role, token] of callers) {
          const res = await call(gateway.baseUrl, token, method, url, body);
          const isAllowed = role === 'admin' || (policy.includes(role) && (role !== 'auditor' || method === 'GET'));
          if (isAllowed && [401, 403].includes(res.status)) {
            wrong.push(`${name}: ${who} should be allowed, got ${res.status} ${JSON.stringify(res.body)}`);
          }
          if (!isAllowed && (res.status !== 403 || res.body?.error?.code !== 'forbidden')) {
            wrong.push(`${name}: ${who} should be refused with 403 forbidden, got ${res.status}`);
          }
        }
      }
      if (wrong.length > 0) {
        wrong.push('(if a route changed its @Roles on purpose, update its row in ACCESS in test/staff-access.e2e-spec.ts)');
      }
      expect(wrong).toEqual([]);
    });

    it('tells a refused caller in plain words what to do', async () => {
      const refused = await call(gateway.baseUrl, staff.clerk.token, 'POST', '/api/v1/devices', { kind: 'bin', communityId });
      expect(refused.status).toBe(403);
      expect(refused.body.error).toMatchObject({ code: 'forbidden', message: expect.stringContaining('ask an administrator') });
      const auditorWrite = await call(gateway.baseUrl, staff.auditor.token, 'POST', '/api/v1/communities', { name: 'x' });
      expect(auditorWrite.status).toBe(403);
      expect(auditorWrite.body.error.message).toContain('change nothing');
    });
  });

  describe('tokens and users', () => {
    it('shows a token once and stores only its hash', async () => {
      const listed = await admin.ok<{ staff: { id: string; tokens: Record<string, unknown>[] }[] }>('GET', '/api/v1/staff');
      const clerk = listed.staff.find((u) => u.id === staff.clerk.id)!;
      expect(clerk.tokens).toHaveLength(1);
      expect(Object.keys(clerk.tokens[0]!).sort()).toEqual(['createdAt', 'id', 'label', 'revokedAt', 'userId']);
      expect(JSON.stringify(listed)).not.toContain(staff.clerk.token);
    });

    it('refuses a revoked token from the very next request', async () => {
      const collector = await createStaff('credit_collector');
      const resident = await call(gateway.baseUrl, collector.token, 'POST', '/api/v1/residents', { communityId, name: '赵六' });
      expect(resident.status).toBe(201); // the token is good, and now cached
      const revoked = await admin.request('DELETE', `/api/v1/staff/${collector.id}/tokens/${collector.tokenId}`);
      expect(revoked.status).toBe(200);
      expect(revoked.body.revokedAt).toEqual(expect.any(String));
      const after = await call(gateway.baseUrl, collector.token, 'GET', `/api/v1/residents/${resident.body.id}`);
      expect(after.status).toBe(401);
      expect(after.body.error.code).toBe('unauthorized');
    });

    it('refuses a switched-off user at once, and lets them back in when switched on', async () => {
      const clerk = await createStaff('clerk');
      const path = `/api/v1/communities/${communityId}`;
      expect((await call(gateway.baseUrl, clerk.token, 'GET', path)).status).toBe(200);
      await admin.ok('PATCH', `/api/v1/staff/${clerk.id}`, { isActive: false });
      expect((await call(gateway.baseUrl, clerk.token, 'GET', path)).status).toBe(401);
      await admin.ok('PATCH', `/api/v1/staff/${clerk.id}`, { isActive: true });
      expect((await call(gateway.baseUrl, clerk.token, 'GET', path)).status).toBe(200);
    });

    it('applies a role change from the next request', async () => {
      const user = await createStaff('clerk');
      expect((await call(gateway.baseUrl, user.token, 'GET', '/api/v1/dead-letters')).status).toBe(403);
      await admin.ok('PATCH', `/api/v1/staff/${user.id}`, { role: 'operator' });
      expect((await call(gateway.baseUrl, user.token, 'GET', '/api/v1/dead-letters')).status).toBe(200);
    });

    it('refuses a second user with the same name, the reserved name, and a bad role with what to fix', async () => {
      const taken = await admin.request('POST', '/api/v1/staff', { name: staff.clerk.name, role: 'clerk' });
      expect(taken.status).toBe(409);
      expect(taken.body.error.message).toContain('choose another name');
      const reserved = await admin.request('POST', '/api/v1/staff', { name: 'bootstrap', role: 'admin' });
      expect(reserved.status).toBe(400);
      const badRole = await admin.request('POST', '/api/v1/staff', { name: 'x.y', role: 'boss' });
      expect(badRole.status).toBe(400);
      expect(badRole.body.error.message).toContain('role must be one of');
    });

    it('puts a community-scoped user in that community only', async () => {
      const res = await admin.request('POST', '/api/v1/staff', {
        name: `scoped-${randomBytes(3).toString('hex')}`,
        role: 'clerk',
        communityId,
      });
      expect(res.status).toBe(201);
      expect(res.body.communityId).toBe(communityId);
      const unknown = await admin.request('POST', '/api/v1/staff', { name: 'nowhere', role: 'clerk', communityId: NO_SUCH_ID });
      expect(unknown.status).toBe(400);
      expect(unknown.body.error.code).toBe('unknown-community');
    });
  });

  describe('the audit log', () => {
    it('records a write with who, the route, and the record before and after', async () => {
      const user = await createStaff('clerk');
      await admin.ok('PATCH', `/api/v1/staff/${user.id}`, { role: 'credit_collector' });
      const page = await call(gateway.baseUrl, staff.auditor.token, 'GET', `/api/v1/audit-log?entityType=staff&entityId=${user.id}`);
      expect(page.status).toBe(200);
      const [update, create] = page.body.entries;
      expect(update).toMatchObject({
        actor: 'staff:bootstrap',
        action: 'PATCH /api/v1/staff/:id',
        entityType: 'staff',
        entityId: user.id,
        before: { role: 'clerk', name: user.name },
        after: { role: 'credit_collector', name: user.name },
      });
      expect(create).toMatchObject({ action: 'POST /api/v1/staff', before: null, after: { role: 'clerk' } });
    });

    it('records who a staff member is, and never a token or a device password', async () => {
      const device = await call(gateway.baseUrl, staff.operator.token, 'POST', '/api/v1/devices', { kind: 'bin', communityId });
      expect(device.status).toBe(201);
      const page = await admin.ok('GET', `/api/v1/audit-log?entityType=device&entityId=${device.body.id}`);
      expect(page.entries).toHaveLength(1);
      expect(page.entries[0]).toMatchObject({ actor: `staff:${staff.operator.name}`, after: { mqtt: { password: '[redacted]' } } });
      const all = await admin.ok('GET', '/api/v1/audit-log?limit=500');
      expect(JSON.stringify(all)).not.toContain(device.body.mqtt.password);
      expect(JSON.stringify(all)).not.toContain(staff.clerk.token);
    });

    it('filters by actor and time, and pages with a cursor', async () => {
      const actor = `staff:${staff.credit_admin.name}`;
      const since = new Date(Date.now() - 1000).toISOString();
      for (const name of ['甲', '乙', '丙']) {
        const res = await call(gateway.baseUrl, staff.credit_admin.token, 'POST', '/api/v1/residents', { communityId, name });
        expect(res.status).toBe(201);
      }
      const query = `actor=${encodeURIComponent(actor)}&since=${encodeURIComponent(since)}`;
      const first = await admin.ok('GET', `/api/v1/audit-log?${query}&limit=2`);
      expect(first.entries.map((e: any) => e.after.name)).toEqual(['丙', '乙']);
      expect(first.nextCursor).toEqual(expect.any(String));
      const second = await admin.ok('GET', `/api/v1/audit-log?${query}&limit=2&cursor=${first.nextCursor}`);
      expect(second.entries.map((e: any) => e.after.name)).toEqual(['甲']);
      expect(second.nextCursor).toBeNull();
      const later = encodeURIComponent(new Date(Date.now() + 60_000).toISOString());
      const future = await admin.ok('GET', `/api/v1/audit-log?actor=${encodeURIComponent(actor)}&since=${later}`);
      expect(future.entries).toEqual([]);
      const bad = await admin.request('GET', '/api/v1/audit-log?since=yesterday');
      expect(bad.status).toBe(400);
    });
  });

  describe('Idempotency-Key', () => {
    it('answers a retry with the first answer, marked as replayed, without doing it twice', async () => {
      const key = randomUUID();
      const body = { name: `idem-${randomBytes(3).toString('hex')}`, role: 'clerk' };
      const first = await call(gateway.baseUrl, TEST_ADMIN_TOKEN, 'POST', '/api/v1/staff', body, { 'idempotency-key': key });
      expect(first.status).toBe(201);
      expect(first.headers.get('idempotent-replayed')).toBeNull();
      // Run again, the same name would be refused with 409: a 201 means the first answer came back.
      const retry = await call(gateway.baseUrl, TEST_ADMIN_TOKEN, 'POST', '/api/v1/staff', body, { 'idempotency-key': key });
      expect(retry.status).toBe(201);
      expect(retry.headers.get('idempotent-replayed')).toBe('true');
      expect(retry.body).toEqual(first.body);
      const audit = await admin.ok('GET', `/api/v1/audit-log?entityType=staff&entityId=${first.body.id}`);
      expect(audit.entries).toHaveLength(1);
    });

    it('refuses the same key with another body with 422 idempotency-key-reused', async () => {
      const key = randomUUID();
      const first = await call(
        gateway.baseUrl,
        TEST_ADMIN_TOKEN,
        'POST',
        '/api/v1/residents',
        { communityId, name: '钱七' },
        { 'idempotency-key': key },
      );
      expect(first.status).toBe(201);
      const reused = await call(
        gateway.baseUrl,
        TEST_ADMIN_TOKEN,
        'POST',
        '/api/v1/residents',
        { communityId, name: '孙八' },
        { 'idempotency-key': key },
      );
      expect(reused.status).toBe(422);
      expect(reused.body.error).toMatchObject({ code: 'idempotency-key-reused', message: expect.stringContaining('send a new key') });
    });

    it('keeps one actor’s keys apart from another’s', async () => {
      const key = randomUUID();
      const body = { communityId, name: '周九' };
      const mine = await call(gateway.baseUrl, staff.credit_admin.token, 'POST', '/api/v1/residents', body, { 'idempotency-key': key });
      const theirs = await call(gateway.baseUrl, staff.credit_collector.token, 'POST', '/api/v1/residents', body, {
        'idempotency-key': key,
      });
      expect([mine.status, theirs.status]).toEqual([201, 201]);
      expect(theirs.body.id).not.toBe(mine.body.id);
      expect(theirs.headers.get('idempotent-replayed')).toBeNull();
    });

    it('runs concurrent duplicates once', async () => {
      const key = randomUUID();
      const answers = await Promise.all(
        Array.from({ length: 5 }, () =>
          call(gateway.baseUrl, TEST_ADMIN_TOKEN, 'POST', '/api/v1/residents', { communityId, name: '吴十' }, { 'idempotency-key': key }),
        ),
      );
      expect(answers.map((a) => a.status)).toEqual([201, 201, 201, 201, 201]);
      expect(new Set(answers.map((a) => a.body.id)).size).toBe(1);
      expect(answers.filter((a) => a.headers.get('idempotent-replayed') === 'true')).toHaveLength(4);
      const audit = await admin.ok('GET', `/api/v1/audit-log?entityType=resident&entityId=${answers[0]!.body.id}`);
      expect(audit.entries).toHaveLength(1);
    });

    it('keeps no failed answer: a retry runs again', async () => {
      const key = randomUUID();
      const failed = await call(
        gateway.baseUrl,
        TEST_ADMIN_TOKEN,
        'POST',
        '/api/v1/residents',
        { communityId: NO_SUCH_ID, name: '郑一' },
        {
          'idempotency-key': key,
        },
      );
      expect(failed.status).toBe(400);
      const fixed = await call(
        gateway.baseUrl,
        TEST_ADMIN_TOKEN,
        'POST',
        '/api/v1/residents',
        { communityId: NO_SUCH_ID, name: '郑一' },
        {
          'idempotency-key': key,
        },
      );
      expect(fixed.status).toBe(400);
      expect(fixed.headers.get('idempotent-replayed')).toBeNull();
    });

    it('refuses a key longer than 200 characters with 400', async () => {
      const res = await call(
        gateway.baseUrl,
        TEST_ADMIN_TOKEN,
        'POST',
        '/api/v1/residents',
        { communityId, name: '王' },
        {
          'idempotency-key': 'k'.repeat(201),
        },
      );
      expect(res.status).toBe(400);
      expect(res.body.error.message).toContain('Idempotency-Key');
    });
  });
});

describe(`rate limits — ${modeName}`, () => {
  let gateway: GatewayProcess;

  beforeAll(async () => {
    gateway = await GatewayProcess.start({ env: { API_RATE_LIMIT_PER_MINUTE: '5' } });
  });

  afterAll(async () => {
    await gateway?.dispose();
  });

  it('answers 429 rate-limited with Retry-After past the limit, per token, and keeps /health open', async () => {
    const admin = new ApiClient(gateway.baseUrl);
    const user = await admin.ok('POST', '/api/v1/staff', { name: 'busy.operator', role: 'operator' });
    const { token } = await admin.ok('POST', `/api/v1/staff/${user.id}/tokens`, {});
    const statuses: number[] = [];
    for (let i = 0; i < 3; i++) statuses.push((await admin.request('GET', '/api/v1/dead-letters')).status);
    expect(statuses).toEqual([200, 200, 200]); // 5 calls of the admin token so far
    const limited = await call(gateway.baseUrl, TEST_ADMIN_TOKEN, 'GET', '/api/v1/dead-letters');
    expect(limited.status).toBe(429);
    expect(limited.body.error).toMatchObject({ code: 'rate-limited', message: expect.stringContaining('wait') });
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    // Another token has its own allowance; health checks are not limited.
    expect((await call(gateway.baseUrl, token, 'GET', '/api/v1/dead-letters')).status).toBe(200);
    for (let i = 0; i < 8; i++) expect((await fetch(`${gateway.baseUrl}/health`)).status).toBe(200);
  });
});
