import { createInterface } from 'node:readline';
import { allDevicesFilter } from '../../libs/protocol/src';
import { EmbeddedBroker } from '../../apps/gateway/src/broker/embedded-broker';
import { createLogger } from '../../apps/gateway/src/logging/logger';
import type { DeviceCredentials } from '../../apps/gateway/src/registry/device-credentials';

/**
 * Runs the embedded broker and its in-process link in a child process (aedes is
 * ESM, which jest cannot load on Node 20) for test/in-process-link.e2e-spec.ts.
 * stdout: one JSON line per fact ({ready}, {received}, {published}).
 * stdin: `hold` (the next delivery waits), `hold-all` (every delivery waits), `release`
 * (releases what waits, ends hold-all), `publish <topic> <payload>`.
 * Every device id is known; its password is `pw-<id>`.
 */
const credentials = {
  check: (deviceId: string, password: string) =>
    Promise.resolve(password === `pw-${deviceId}` ? { ok: true } : { ok: false, reason: 'wrong-password' }),
} as unknown as DeviceCredentials;

const say = (fact: unknown) => process.stdout.write(`${JSON.stringify(fact)}\n`);

async function main(): Promise<void> {
  const broker = new EmbeddedBroker({
    host: '127.0.0.1',
    port: 0,
    credentials,
    logger: createLogger('silent'),
    deadLetter: () => undefined,
  });
  await broker.start();
  const link = broker.inProcessLink();
  const readyBefore = link.isReady;
  let holdNext = false;
  let holdAll = false;
  const held: (() => void)[] = [];
  await link.start([allDevicesFilter('events')], async (message) => {
    say({ received: { topic: message.topic, payload: message.payload.toString() } });
    if (holdNext || holdAll) {
      holdNext = false;
      await new Promise<void>((resolve) => held.push(resolve));
    }
  });
  say({ ready: { port: broker.port, readyBefore, readyAfter: link.isReady } });
  for await (const line of createInterface({ input: process.stdin })) {
    const [command, topic, payload] = line.split(' ');
    if (command === 'hold') holdNext = true;
    else if (command === 'hold-all') holdAll = true;
    else if (command === 'release') {
      holdAll = false;
      held.splice(0).forEach((release) => release());
    } else if (command === 'publish') {
      await link.publish(topic!, payload!);
      say({ published: topic });
    }
  }
  await link.close();
  await broker.stop();
}

main().catch((err: unknown) => {
  process.stderr.write(`${String(err)}\n`);
  process.exit(1);
});
