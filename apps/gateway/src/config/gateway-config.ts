import { z } from 'zod';

const emptyAsUndefined = (v: unknown) => (v === '' ? undefined : v);

// `HTTP_PORT=` (e.g. `HTTP_PORT=${HTTP_PORT}` in a compose file) means unset, not port 0.
const port = (name: string, fallback: number) =>
  z.preprocess(
    emptyAsUndefined,
    z.coerce
      .number({ error: `${name} must be a port number (0 picks a free one)` })
      .int(`${name} must be a whole number`)
      .min(0, `${name} must be between 0 and 65535`)
      .max(65535, `${name} must be between 0 and 65535`)
      .default(fallback),
  );

const positiveInt = (name: string, fallback: number, max: number) =>
  z.preprocess(
    emptyAsUndefined,
    z.coerce
      .number({ error: `${name} must be a number` })
      .int(`${name} must be a whole number`)
      .min(1, `${name} must be at least 1`)
      .max(max, `${name} must be at most ${max}`)
      .default(fallback),
  );

/**
 * The gateway's whole configuration, from the environment, checked once at boot
 * (STYLE.md: one zod schema per process; nothing else reads process.env).
 */
export const gatewayConfigSchema = z.object({
  HTTP_PORT: port('HTTP_PORT', 3000),
  HTTP_HOST: z.string().min(1).default('0.0.0.0'),
  MQTT_PORT: port('MQTT_PORT', 1883),
  MQTT_HOST: z.string().min(1).default('0.0.0.0'),
  MQTT_URL: z.preprocess(
    emptyAsUndefined,
    z.url({ protocol: /^(mqtt|mqtts|tcp|ssl|ws|wss)$/, error: 'MQTT_URL must be a broker URL such as mqtt://127.0.0.1:1883' }).optional(),
  ),
  MQTT_USERNAME: z.preprocess(emptyAsUndefined, z.string().optional()),
  MQTT_PASSWORD: z.preprocess(emptyAsUndefined, z.string().optional()),
  MQTT_SHARE_GROUP: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,32}$/, 'MQTT_SHARE_GROUP must be 1-32 letters, digits, - or _')
    .default('jifen'),
  DATABASE_URL: z.preprocess(
    emptyAsUndefined,
    z
      .url({ protocol: /^postgres(ql)?$/, error: 'DATABASE_URL must be a PostgreSQL URL such as postgresql://user@127.0.0.1:5432/jifen' })
      .optional(),
  ),
  DATABASE_POOL_SIZE: positiveInt('DATABASE_POOL_SIZE', 10, 200),
  DATA_DIR: z.string().min(1).default('./data'),
  ADMIN_TOKEN: z.preprocess(
    emptyAsUndefined,
    z.string().min(24, 'ADMIN_TOKEN must be at least 24 characters: it guards every point in the ledger').optional(),
  ),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  INGEST_MAX_BATCH: positiveInt('INGEST_MAX_BATCH', 512, 5000),
  INGEST_MAX_WAIT_MS: z.preprocess(
    emptyAsUndefined,
    z.coerce
      .number({ error: 'INGEST_MAX_WAIT_MS must be a number of milliseconds' })
      .int('INGEST_MAX_WAIT_MS must be a whole number')
      .min(0)
      .max(1000, 'INGEST_MAX_WAIT_MS must be at most 1000')
      .default(2),
  ),
  INGEST_MAX_QUEUE: positiveInt('INGEST_MAX_QUEUE', 4096, 1_000_000),
  /** Batches committed at once; default 1 with PGlite (serial anyway), 2 with PostgreSQL. */
  INGEST_CONCURRENCY: z.preprocess(emptyAsUndefined, z.coerce.number().int().min(1).max(16).optional()),
  LATENESS_DAYS: positiveInt('LATENESS_DAYS', 7, 365),
  /** Admin API calls per token (or, without a good token, per address) and minute, on each replica. */
  API_RATE_LIMIT_PER_MINUTE: positiveInt('API_RATE_LIMIT_PER_MINUTE', 600, 1_000_000),
  /** Scaled mode with Mosquitto: keep its dynamic-security clients in step with the registry (MQTT_USERNAME is its admin). */
  MQTT_DYNSEC: z.preprocess(
    emptyAsUndefined,
    z
      .enum(['true', 'false'], { error: 'MQTT_DYNSEC must be true or false' })
      .default('false')
      .transform((v) => v === 'true'),
  ),
  /** Shared secret EMQX sends in x-jifen-broker-secret to the broker-auth endpoints; unset: they refuse. */
  BROKER_AUTH_SECRET: z.preprocess(emptyAsUndefined, z.string().min(16, 'BROKER_AUTH_SECRET must be at least 16 characters').optional()),
  /** Failed logins per client id or address within the window that raise a repeated-failures event. */
  AUTH_FAILURE_WINDOW_SECONDS: positiveInt('AUTH_FAILURE_WINDOW_SECONDS', 300, 86_400),
  AUTH_FAILURE_THRESHOLD: positiveInt('AUTH_FAILURE_THRESHOLD', 5, 10_000),
});

export type GatewayConfig = z.infer<typeof gatewayConfigSchema>;

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/** Secrets never reach a message: whole tokens and passwords, and the password inside a URL. */
function redact(name: string, value: string): string {
  if (/TOKEN|PASSWORD|SECRET/.test(name)) return '***';
  return value.replace(/^([a-z][a-z0-9+.-]*:\/\/[^:/@]*):[^@/]*@/i, '$1:***@');
}

/** Parses the environment; throws a ConfigError listing every bad variable by name. */
export function loadGatewayConfig(env: NodeJS.ProcessEnv): GatewayConfig {
  const parsed = gatewayConfigSchema.safeParse(env);
  if (parsed.success) return parsed.data;
  throw new ConfigError(
    parsed.error.issues.map((issue) => {
      const name = String(issue.path[0] ?? '?');
      const value = env[name];
      return `${name}: ${issue.message}${value === undefined ? '' : ` (got ${JSON.stringify(redact(name, value))})`}`;
    }),
  );
}

export function isEmbeddedBroker(config: GatewayConfig): boolean {
  return config.MQTT_URL === undefined;
}
