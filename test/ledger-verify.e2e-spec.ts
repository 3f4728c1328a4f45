import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { ApiClient, createFixture } from './support/api-client';
import { GatewayProcess } from './support/gateway-process';
import { TestDevice } from './support/test-device';
import { isScaled, itEmbeddedOnly, modeName } from './support/test-mode';

jest.setTimeout(120_000);

const DIST = join(__dirname, '..', 'dist');
const VERIFY_CLI = join(DIST, 'apps', 'gateway', 'src', 'cli', 'verify-ledger.js');
const TAMPER = join(DIST, 'test', 'support', 'ledger-tamper.harness.js');

function run(script: string, args: string[], env: Record<string, string>) {
  const r = spawnSync(process.execPath, [script, ...args], {
    env: { PATH: process.env['PATH'] ?? '', HOME: process.env['HOME'] ?? '', ...env },
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe(`the ledger verify CLI and endpoint catch a changed entry — ${modeName}`, () => {
  let gateway: GatewayProcess;
  let api: ApiClient;
  let device: TestDevice | undefined;

  const databaseEnv = (): Record<string, string> => (isScaled ? { DATABASE_URL: gateway.databaseUrl! } : { DATA_DIR: gateway.dataDir });

  beforeAll(async () => {
    gateway = await GatewayProcess.start();
    api = new ApiClient(gateway.baseUrl);
  });

  afterAll(async () => {
    await device?.close();
    await gateway?.dispose();
  });

  it('says ok, then names the entry whose amount was changed in the database', async () => {
    const fixture = await createFixture(api);
    device = await TestDevice.connect({
      url: gateway.mqttUrl,
      deviceId: fixture.device.id,
      password: fixture.device.password,
      protocolVersion: isScaled ? 5 : 4,
    });
    for (let i = 0; i < 3; i++) expect((await device.send(device.deposit(fixture.cardUid))).result).toBe('credited');
    await api.ok('POST', `/api/v1/residents/${fixture.residentId}/credits`, { amount: 5, reason: '社区清扫 street cleaning' });
    const { entries } = await api.ok<{ entries: { id: string; amount: number; source: string }[] }>(
      'GET',
      `/api/v1/residents/${fixture.residentId}/ledger`,
    );
    expect(entries).toHaveLength(4);
    // newest first: the second deposit sits in the middle of the chain
    const victim = entries[2]!;
    expect(victim.source).toBe('device_event');

    const before = await api.ok('GET', `/api/v1/ledger/verify?communityId=${fixture.communityId}`);
    expect(before).toMatchObject({ ok: true, entriesChecked: 4, firstMismatch: null });

    if (!isScaled) {
      // the running gateway holds the embedded database
      const locked = run(VERIFY_CLI, ['--community', fixture.communityId], databaseEnv());
      expect(locked.code).toBe(2);
      expect(locked.stderr).toContain('the gateway is running: call GET /api/v1/ledger/verify, or stop it first');
    }

    await gateway.stop();
    const ok = run(VERIFY_CLI, ['--community', fixture.communityId], databaseEnv());
    expect(ok.stdout).toContain('ledger OK: 4 entries');
    expect(ok.code).toBe(0);

    const tampered = run(TAMPER, [isScaled ? gateway.databaseUrl! : gateway.dataDir, victim.id, String(victim.amount + 100)], {});
    expect(tampered.stderr).toBe('');
    expect(JSON.parse(tampered.stdout)).toMatchObject({ id: victim.id, amount: victim.amount + 100 });

    const bad = run(VERIFY_CLI, ['--community', fixture.communityId], databaseEnv());
    expect(bad.code).toBe(1);
    expect(bad.stdout).toContain(`ledger MISMATCH in community ${fixture.communityId}`);
    expect(bad.stdout).toContain(`entry ${victim.id}`);
    expect(bad.stdout).toContain('its content does not match its hash');
    // the whole database too (no --community)
    expect(run(VERIFY_CLI, [], databaseEnv()).code).toBe(1);

    await gateway.restart();
    const after = await api.ok('GET', `/api/v1/ledger/verify?communityId=${fixture.communityId}`);
    expect(after.ok).toBe(false);
    expect(after.firstMismatch).toMatchObject({ communityId: fixture.communityId, entryId: victim.id });
    expect(after.firstMismatch.problem).toContain('does not match its hash');
    // the reconciliation, which sums the amounts, flags the resident too
    const day = 24 * 3600_000;
    const period = `from=${new Date(Date.now() - day).toISOString()}&to=${new Date(Date.now() + day).toISOString()}`;
    const rec = await api.ok('GET', `/api/v1/communities/${fixture.communityId}/reconciliation?${period}`);
    expect(rec.ok).toBe(false);
    expect(rec.total.residentsWithProblems).toBe(1);
    expect(rec.residents[0].problems.join(' ')).toContain(`the ledger adds up to ${rec.residents[0].balance + 100}`);
  });

  itEmbeddedOnly('refuses a bad --community and exits 2', () => {
    const r = run(VERIFY_CLI, ['--community', 'not-a-uuid'], { DATA_DIR: gateway.dataDir });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--community needs a community id');
  });
});
