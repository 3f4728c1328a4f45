import { parseArgs } from 'node:util';
import pino from 'pino';
import { EdgeBridge } from './bridge';
import { ConfigError, loadBridgeConfig } from './config';
import { ConsoleDisplay, NoDisplay } from './display';

const USAGE = `npm run edge-bridge -- --config bridge.json

Runs next to a bin's or terminal's serial peripherals (PN532 or text-line NFC reader,
Modbus RTU scale) and speaks device protocol v1 to the gateway. See devices/README.md.`;

async function main(): Promise<number> {
  let configPath: string | undefined;
  try {
    const { values } = parseArgs({ options: { config: { type: 'string' }, help: { type: 'boolean' } }, strict: true });
    if (values.help) {
      process.stdout.write(`${USAGE}\n`);
      return 0;
    }
    configPath = values.config;
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n\n${USAGE}\n`);
    return 2;
  }
  if (!configPath) {
    process.stderr.write(`--config is required\n\n${USAGE}\n`);
    return 2;
  }
  let config;
  try {
    config = loadBridgeConfig(configPath, process.env);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    process.stderr.write(`edge bridge: bad config ${configPath}:\n${err.message}\n`);
    return 2;
  }
  // Logs as JSON on stderr; the console display has stdout.
  const log = pino({ level: process.env['LOG_LEVEL'] ?? 'info' }, pino.destination(2));
  const bridge = new EdgeBridge(config, config.display === 'console' ? new ConsoleDisplay() : new NoDisplay(), log);
  try {
    await bridge.start();
  } catch (err) {
    log.error({ err: (err as Error).message }, 'edge bridge could not start');
    await bridge.stop().catch(() => {});
    return 1;
  }
  const code = await new Promise<number>((resolve) => {
    process.once('SIGINT', () => resolve(0));
    process.once('SIGTERM', () => resolve(0));
    bridge.once('fatal', (err) => {
      log.error({ err: err.message }, 'edge bridge stopping: check device.id and device.password');
      resolve(1);
    });
  });
  log.info({}, 'stopping');
  await bridge.stop();
  return code;
}

void main().then((code) => process.exit(code));
