import { resolve } from 'node:path';
import { DataDirLockedError } from '../../../libs/persistence/src';
import { PortInUseError } from './broker/embedded-broker';
import { ConfigError, type GatewayConfig, loadGatewayConfig } from './config/gateway-config';
import { HttpPortInUseError, type RunningGateway, startGateway } from './gateway';
import { boundHeapGrowth } from './heap-growth';
import { createLogger } from './logging/logger';

/** Plain lines for the person at the terminal; logs stay JSON for machines. */
function say(lines: string[]): void {
  process.stderr.write(`${lines.join('\n')}\n`);
}

function explainStartFailure(err: unknown, config: GatewayConfig): string[] | null {
  if (err instanceof PortInUseError) {
    return [
      `jifen: cannot start the embedded MQTT broker: port ${err.port} is already in use (another broker, such as Mosquitto, may be running).`,
      `  - set MQTT_PORT to a free port, e.g.  MQTT_PORT=1884 npm start`,
      `  - or use the broker that is already running instead of the embedded one:  MQTT_URL=mqtt://127.0.0.1:${err.port} npm start`,
    ];
  }
  if (err instanceof HttpPortInUseError) {
    return [
      `jifen: cannot start the HTTP API: port ${err.port} is already in use.`,
      `  - set HTTP_PORT to a free port, e.g.  HTTP_PORT=3001 npm start`,
    ];
  }
  if (err instanceof DataDirLockedError) {
    return [`jifen: ${err.message}`];
  }
  if (config.DATABASE_URL && /ECONNREFUSED|password authentication|does not exist/.test(String((err as Error)?.message))) {
    return [
      `jifen: cannot use the database at DATABASE_URL: ${(err as Error).message}`,
      `  - check that PostgreSQL is running and the URL is right, or unset DATABASE_URL to use the embedded database`,
    ];
  }
  return null;
}

function banner(gw: RunningGateway, config: GatewayConfig): string[] {
  const host = config.HTTP_HOST === '0.0.0.0' ? 'localhost' : config.HTTP_HOST;
  const lines = [
    '',
    'jifen gateway is running',
    gw.mqttPort !== null
      ? `  MQTT (embedded broker)  mqtt://${host}:${gw.mqttPort}`
      : `  MQTT (external broker)  ${gw.mqttUrl.replace(/\/\/[^@/]*@/, '//***@')}`,
    `  HTTP API                http://${host}:${gw.httpPort}/api/v1`,
    `  API docs                http://${host}:${gw.httpPort}/api/docs`,
    `  web pages               http://${host}:${gw.httpPort}/ui/`,
    `  health                  http://${host}:${gw.httpPort}/health`,
    `  database                ${gw.databaseMode === 'embedded' ? `embedded, in ${resolve(config.DATA_DIR)}` : 'PostgreSQL (DATABASE_URL)'}`,
  ];
  if (gw.adminToken.kind === 'generated') {
    lines.push(
      '',
      '  Admin token (shown only this once; it is stored hashed, copy it now):',
      `    ${gw.adminToken.token}`,
      '  Use it as:  Authorization: Bearer <token>',
    );
  } else if (gw.adminToken.kind === 'from-env') {
    lines.push('  admin token             from ADMIN_TOKEN');
  } else {
    lines.push('  admin token             set on first start (stored hashed); set ADMIN_TOKEN to replace it');
  }
  lines.push('', 'Stop with Ctrl+C.', '');
  return lines;
}

async function main(): Promise<void> {
  let config: GatewayConfig;
  try {
    config = loadGatewayConfig(process.env);
  } catch (err) {
    if (err instanceof ConfigError) {
      say([`jifen: ${err.message}`]);
      process.exit(2);
    }
    throw err;
  }
  boundHeapGrowth(config);
  const logger = createLogger(config.LOG_LEVEL);
  let gateway: RunningGateway;
  try {
    gateway = await startGateway(config, logger);
  } catch (err) {
    const explained = explainStartFailure(err, config);
    if (explained) say(explained);
    else logger.fatal({ err }, 'gateway failed to start');
    process.exit(1);
  }
  // The banner first: whoever waits for the ready line finds the banner already written.
  say(banner(gateway, config));
  logger.info(
    {
      httpPort: gateway.httpPort,
      mqttPort: gateway.mqttPort,
      databaseMode: gateway.databaseMode,
      migrationsApplied: gateway.migrationsApplied,
      ...(gateway.maxUnconfirmedPublishes === null ? {} : { maxUnconfirmedPublishes: gateway.maxUnconfirmedPublishes }),
    },
    'gateway ready',
  );

  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'stopping: draining queued events');
    gateway.stop().then(
      () => process.exit(0),
      (err: unknown) => {
        logger.error({ err }, 'unclean stop');
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));
}

void main();
