import { createLogger } from './logger';

function capture() {
  const lines: string[] = [];
  const logger = createLogger('info', { write: (line: string) => void lines.push(line) });
  return { logger, lines };
}

describe('the gateway logger', () => {
  it('never writes a device password, provisioning secret or token, wherever it sits in the logged object', () => {
    const { logger, lines } = capture();
    logger.info({ deviceId: 'bin-1', password: 'p4ss-device' }, 'registered');
    logger.info({ answer: { credentials: { username: 'bin-2', password: 'p4ss-provisioned' } } }, 'provisioned');
    logger.info({ body: { provisioningSecret: 'sekr1t', token: 'tok-123' }, mqtt: { password: 'p4ss-mqtt' } }, 'request');
    const text = lines.join('');
    for (const secret of ['p4ss-device', 'p4ss-provisioned', 'sekr1t', 'tok-123', 'p4ss-mqtt']) expect(text).not.toContain(secret);
    expect(text).toContain('"deviceId":"bin-1"');
    expect(text).toContain('[redacted]');
  });
});
