import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { DEVICE_ID_PATTERN, depositItemSchema } from '../../../libs/protocol/src';

const port = {
  path: z.string().min(1, 'path is the serial device, e.g. /dev/ttyUSB0'),
  baudRate: z.number().int().positive().default(115_200),
};

const pn532Reader = z.object({
  type: z.literal('pn532'),
  ...port,
  /** Time between InListPassiveTarget polls. */
  pollIntervalMs: z.number().int().min(10).max(10_000).default(150),
  /** How long to wait for the ACK and for the answer of one command. */
  responseTimeoutMs: z.number().int().min(20).max(10_000).default(1000),
  /** The card counts as gone after this long without being seen: then the next sighting is a new tap. */
  cardGoneMs: z.number().int().min(50).max(60_000).default(600),
  /** Failed commands in a row before the port is closed and reopened. */
  failuresBeforeReopen: z.number().int().min(1).max(100).default(3),
});

const textLineReader = z.object({
  type: z.literal('text-line'),
  ...port,
  baudRate: z.number().int().positive().default(9600),
  /** The same UID again within this time is one tap (readers repeat while a card is held). */
  repeatWithinMs: z.number().int().min(0).max(60_000).default(1500),
});

const scale = z.object({
  ...port,
  baudRate: z.number().int().positive().default(9600),
  /** Modbus unit (slave) id. */
  unit: z.number().int().min(1).max(247).default(1),
  /** First holding register of the weight. */
  register: z.number().int().min(0).max(0xffff).default(0),
  /** 1: a 16-bit weight; 2: a 32-bit weight, high word first. */
  registerCount: z.union([z.literal(1), z.literal(2)]).default(2),
  /** Grams per count of the register value, e.g. 0.1 for a scale that counts tenths of a gram. */
  gramsPerCount: z.number().positive().default(1),
  timeoutMs: z.number().int().min(50).max(10_000).default(500),
});

/**
 * The edge bridge's config file (`npm run edge-bridge -- --config file.json`),
 * checked once at start; every mistake is reported with its path.
 */
export const bridgeConfigSchema = z.object({
  device: z.object({
    id: z.string().regex(DEVICE_ID_PATTERN, 'device.id is the id the gateway registered: 1-64 letters, digits, - or _'),
    /** The MQTT password shown once at registration; or leave it out and set JIFEN_DEVICE_PASSWORD. */
    password: z.string().min(1).optional(),
    /** bin: a tap then a weighing makes a deposit; terminal or counter: a tap is a tap event. */
    kind: z.enum(['bin', 'terminal', 'counter']),
  }),
  mqtt: z.object({
    url: z.string().regex(/^mqtts?:\/\//, 'mqtt.url must start with mqtt:// or mqtts://'),
    protocolVersion: z.union([z.literal(4), z.literal(5)]).default(4),
  }),
  outbox: z.object({
    dir: z.string().min(1, 'outbox.dir is where events wait for their acks; it must survive a reboot'),
    capacity: z.number().int().min(10).max(1_000_000).default(10_000),
  }),
  resend: z
    .object({ firstMs: z.number().int().min(10).default(10_000), maxMs: z.number().int().min(10).default(300_000) })
    .default({ firstMs: 10_000, maxMs: 300_000 }),
  reader: z.discriminatedUnion('type', [pn532Reader, textLineReader], { error: 'reader.type must be pn532 or text-line' }),
  scale: scale.optional(),
  /**
   * Where a bin's deposit counts come from. `fixed`: every deposit is `items` (a
   * single-slot bin that counts one kind). `keypad`: a text-line port where the
   * bin's counting sensor (or a keypad) writes lines like `alkaline=3 lithium=1`;
   * the last line before a tap, at most `keypadValidMs` old, is the deposit.
   */
  deposit: z
    .object({
      items: z
        .array(depositItemSchema)
        .min(1)
        .default([{ kind: 'alkaline', count: 1 }]),
      keypad: z.object({ ...port, baudRate: z.number().int().positive().default(9600) }).optional(),
      keypadValidMs: z.number().int().min(100).default(60_000),
      /** After the tap, how long the resident has to put the batteries in before the scale is read again. */
      weighingMs: z.number().int().min(0).max(120_000).default(4000),
    })
    .default({ items: [{ kind: 'alkaline', count: 1 }], keypadValidMs: 60_000, weighingMs: 4000 }),
  watchdog: z
    .object({
      /** Reopen backoff of a failed port: from min, doubling, to max. */
      reopenMinMs: z.number().int().min(10).default(1000),
      reopenMaxMs: z.number().int().min(10).default(30_000),
      /** How often a port's device path is checked (an unplugged USB adapter vanishes from /dev; serialport does not always emit close). */
      checkEveryMs: z.number().int().min(10).default(1000),
    })
    .default({ reopenMinMs: 1000, reopenMaxMs: 30_000, checkEveryMs: 1000 }),
  telemetryIntervalMs: z.number().int().min(0).default(60_000),
  /** Where ack display lines go: the console now; a driver for a real panel later (display.ts). */
  display: z.enum(['console', 'none']).default('console'),
});
export type BridgeConfig = z.infer<typeof bridgeConfigSchema>;

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

export function parseBridgeConfig(raw: unknown, env: NodeJS.ProcessEnv = {}): BridgeConfig & { device: { password: string } } {
  const parsed = bridgeConfigSchema.safeParse(raw);
  if (!parsed.success) {
    throw new ConfigError(parsed.error.issues.map((i) => `${i.path.join('.') || '(config)'}: ${i.message}`).join('\n'));
  }
  const config = parsed.data;
  const password = config.device.password ?? env['JIFEN_DEVICE_PASSWORD'];
  if (!password) throw new ConfigError('device.password: missing; put it in the config or set JIFEN_DEVICE_PASSWORD');
  return { ...config, device: { ...config.device, password } };
}

export function loadBridgeConfig(path: string, env: NodeJS.ProcessEnv = {}): ReturnType<typeof parseBridgeConfig> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError(`cannot read the config file ${path}: ${(err as Error).message}`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new ConfigError(`${path} is not JSON: ${(err as Error).message}`);
  }
  return parseBridgeConfig(raw, env);
}
