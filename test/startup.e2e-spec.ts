import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GatewayProcess, runGatewayExpectingExit } from './support/gateway-process';
import { isScaled } from './support/test-mode';

jest.setTimeout(60_000);

function occupyPort(): Promise<{ port: number; close: () => Promise<void> }> {
  return new Promise((resolve) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const address = server.address() as { port: number };
      resolve({ port: address.port, close: () => new Promise((r) => server.close(() => r())) });
    });
  });
}

describe('starting the gateway', () => {
  const dirs: string[] = [];
  const freshDir = () => {
    const dir = mkdtempSync(join(tmpdir(), 'jifen-start-'));
    dirs.push(dir);
    return dir;
  };

  afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

  it('names every bad variable and exits with code 2', async () => {
    const result = await runGatewayExpectingExit({
      HTTP_PORT: 'eighty',
      MQTT_URL: 'http://broker',
      ADMIN_TOKEN: 'short',
      DATA_DIR: freshDir(),
    });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('HTTP_PORT');
    expect(result.stderr).toContain('MQTT_URL');
    expect(result.stderr).toContain('ADMIN_TOKEN must be at least 24 characters');
    expect(result.stderr).not.toContain('short'); // a secret is never echoed
  });

  it('says which variable to set when the MQTT port is taken, and exits non-zero', async () => {
    const busy = await occupyPort();
    try {
      const result = await runGatewayExpectingExit({ MQTT_PORT: String(busy.port), HTTP_PORT: '0', DATA_DIR: freshDir() });
      expect(result.code).toBe(1);
      expect(result.stderr).toContain(`port ${busy.port} is already in use`);
      expect(result.stderr).toContain('MQTT_PORT');
      expect(result.stderr).toContain(`MQTT_URL=mqtt://127.0.0.1:${busy.port}`);
    } finally {
      await busy.close();
    }
  });

  (isScaled ? it.skip : it)('still shows the admin token after a first start that failed on a busy port', async () => {
    const dataDir = freshDir();
    const busy = await occupyPort();
    try {
      const failed = await runGatewayExpectingExit({ MQTT_PORT: '0', HTTP_PORT: String(busy.port), DATA_DIR: dataDir });
      expect(failed.code).toBe(1);
    } finally {
      await busy.close();
    }
    const gateway = await GatewayProcess.start({ env: { DATA_DIR: dataDir, ADMIN_TOKEN: '' } });
    try {
      expect(gateway.stderr).toMatch(/Admin token \(shown only this once/);
    } finally {
      await gateway.stop();
    }
  });

  (isScaled ? it : it.skip)('paces its link to the external broker as MQTT_MAX_UNCONFIRMED_PUBLISHES says, 4,096 unless set', async () => {
    const set = await GatewayProcess.start({ env: { MQTT_MAX_UNCONFIRMED_PUBLISHES: '1234' } });
    try {
      expect(set.ready['maxUnconfirmedPublishes']).toBe(1234);
    } finally {
      await set.dispose();
    }
    const unset = await GatewayProcess.start();
    try {
      expect(unset.ready['maxUnconfirmedPublishes']).toBe(4096);
    } finally {
      await unset.dispose();
    }
  });

  it('says which variable to set when the HTTP port is taken', async () => {
    const busy = await occupyPort();
    try {
      const result = await runGatewayExpectingExit({ MQTT_PORT: '0', HTTP_PORT: String(busy.port), DATA_DIR: freshDir() });
      expect(result.code).toBe(1);
      expect(result.stderr).toContain('HTTP_PORT');
    } finally {
      await busy.close();
    }
  });

  (isScaled ? it.skip : it)('prints the admin token on the first start only, and refuses a second gateway on the same data', async () => {
    const dataDir = freshDir();
    const first = await GatewayProcess.start({ env: { DATA_DIR: dataDir, ADMIN_TOKEN: '' } });
    try {
      const token = /Admin token \(shown only this once[^\n]*\n\s+(jf_\S+)/.exec(first.stderr)?.[1];
      expect(token).toBeDefined();
      const ok = await fetch(`${first.baseUrl}/api/v1/dead-letters`, { headers: { authorization: `Bearer ${token}` } });
      expect(ok.status).toBe(200);

      const second = await runGatewayExpectingExit({ DATA_DIR: dataDir, MQTT_PORT: '0', HTTP_PORT: '0' });
      expect(second.code).toBe(1);
      expect(second.stderr).toContain(`is using the data directory ${dataDir}`);
    } finally {
      await first.stop();
    }
    await first.restart();
    try {
      expect(first.stderr).not.toContain('jf_');
      expect(first.stderr).toContain('set on first start');
    } finally {
      await first.stop();
    }
  });
});
