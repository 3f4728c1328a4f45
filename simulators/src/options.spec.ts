import { parseSimulatorArgs } from './options';

describe('parseSimulatorArgs', () => {
  it('fills in the defaults', () => {
    const o = parseSimulatorArgs(['--admin-token', 'x'.repeat(24)]);
    expect(o).toMatchObject({
      mqttUrl: 'mqtt://localhost:1883',
      httpUrl: 'http://localhost:3000',
      seed: 1,
      residents: 30,
      targetRate: 'max',
    });
  });

  it('reads --flaky with and without settings', () => {
    const bare = parseSimulatorArgs(['--start-gateway', '--flaky']);
    expect(bare !== 'help' && bare.flaky.loss).toBeGreaterThan(0);
    const set = parseSimulatorArgs(['--start-gateway', '--flaky=loss=0.3,delay=5']);
    expect(set !== 'help' && set.flaky).toMatchObject({ loss: 0.3, delayMs: 5 });
  });

  it('names the flag that is wrong', () => {
    expect(() => parseSimulatorArgs(['--start-gateway', '--residents', 'many'])).toThrow(/--residents must be a number/);
    expect(() => parseSimulatorArgs(['--start-gateway', '--double-tap', '3'])).toThrow(/--double-tap is a share/);
    expect(() => parseSimulatorArgs(['--start-gateway', '--target-rate', '-1'])).toThrow(/--target-rate/);
  });

  it('refuses a restart of a gateway it did not start, and a run without a token', () => {
    expect(() => parseSimulatorArgs(['--admin-token', 'tok', '--restart-gateway'])).toThrow(/needs --start-gateway/);
    expect(() => parseSimulatorArgs([])).toThrow(/--admin-token is required/);
  });

  it('takes the token from JIFEN_ADMIN_TOKEN and answers --help', () => {
    expect(parseSimulatorArgs([], { JIFEN_ADMIN_TOKEN: 'tok' })).toMatchObject({ adminToken: 'tok' });
    expect(parseSimulatorArgs(['--help'])).toBe('help');
  });
});
