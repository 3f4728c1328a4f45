import { z } from 'zod';
import { DEFAULT_MAX_UNCONFIRMED_PUBLISHES, MAX_UNCONFIRMED_PUBLISHES } from '../ingest/publish-pacing';

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

const milliseconds = (name: string, fallback: number) =>
  z.preprocess(
    emptyAsUndefined,
    z.coerce
      .number({ error: `${name} must be a number of milliseconds` })
      .int(`${name} must be a whole number of milliseconds`)
      .min(0, `${name} must be 0 (no limit) or more`)
      .max(3_600_000, `${name} must be at most 3600000 (an hour)`)
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
  /** Scaled mode: the next device message is taken only while fewer of the gateway's publishes (acks, commands) await the broker. */
  MQTT_MAX_UNCONFIRMED_PUBLISHES: positiveInt(
    'MQTT_MAX_UNCONFIRMED_PUBLISHES',
    DEFAULT_MAX_UNCONFIRMED_PUBLISHES,
    MAX_UNCONFIRMED_PUBLISHES,
  ),
  DATABASE_URL: z.preprocess(
    emptyAsUndefined,
    z
      .url({ protocol: /^postgres(ql)?$/, error: 'DATABASE_URL must be a PostgreSQL URL such as postgresql://user@127.0.0.1:5432/jifen' })
      .optional(),
  ),
  DATABASE_POOL_SIZE: positiveInt('DATABASE_POOL_SIZE', 10, 200),
  /** PostgreSQL only: statements running longer are cancelled; 0 = no limit. */
  DATABASE_STATEMENT_TIMEOUT_MS: milliseconds('DATABASE_STATEMENT_TIMEOUT_MS', 30_000),
  /** PostgreSQL only: a transaction waiting longer for a lock fails and is retried; 0 = no limit. */
  DATABASE_LOCK_TIMEOUT_MS: milliseconds('DATABASE_LOCK_TIMEOUT_MS', 10_000),
  /** PostgreSQL only: attempts of a transaction hit by a serialization failure, deadlock or lock timeout. */
  DATABASE_TRANSACTION_ATTEMPTS: positiveInt('DATABASE_TRANSACTION_ATTEMPTS', 5, 20),
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
  /** Idempotency-Key answers are kept this long, then a retry with the same key runs again. */
  IDEMPOTENCY_KEEP_DAYS: positiveInt('IDEMPOTENCY_KEEP_DAYS', 7, 365),
  /** An occurredAt further ahead is a broken clock: refused `clock-ahead` (5 min to this: judged at arrival, flagged). */
  CLOCK_AHEAD_LIMIT_HOURS: positiveInt('CLOCK_AHEAD_LIMIT_HOURS', 24, 24 * 365),
  /** How often attendance left open at an activity's end is closed (seconds). */
  ATTENDANCE_CLOSE_SECONDS: positiveInt('ATTENDANCE_CLOSE_SECONDS', 60, 3600),
  /** Admin API calls per token (or, without a good token, per address) and minute, on each replica. */
  API_RATE_LIMIT_PER_MINUTE: positiveInt('API_RATE_LIMIT_PER_MINUTE', 600, 1_000_000),
  /** Device health (issue #6). Every device's heartbeat, overriding kinds and devices (tests use seconds). */
  HEALTH_HEARTBEAT_SECONDS: z.preprocess(
    emptyAsUndefined,
    z.coerce.number().positive('HEALTH_HEARTBEAT_SECONDS must be above 0').optional(),
  ),
  /** How often the in-memory health is written to the database, in one transaction. */
  HEALTH_FLUSH_MS: positiveInt('HEALTH_FLUSH_MS', 10_000, 3_600_000),
  /** How often silence is checked. */
  HEALTH_TICK_MS: positiveInt('HEALTH_TICK_MS', 1000, 60_000),
  /** Telemetry is averaged over buckets this long for the charts. */
  HEALTH_SAMPLE_SECONDS: positiveInt('HEALTH_SAMPLE_SECONDS', 300, 86_400),
  HEALTH_RETENTION_DAYS: positiveInt('HEALTH_RETENTION_DAYS', 30, 3650),
  /** Overrides every device's offline alert delay (default 10 min by kind rules). */
  ALERT_OFFLINE_SECONDS: z.preprocess(emptyAsUndefined, z.coerce.number().positive('ALERT_OFFLINE_SECONDS must be above 0').optional()),
  /** Comma-separated URLs that receive every alert opening and resolution (more can be added through the API). */
  WEBHOOK_URLS: z.preprocess(
    (v) =>
      typeof v === 'string'
        ? v
            .split(',')
            .map((u) => u.trim())
            .filter(Boolean)
        : v,
    z.array(z.url({ protocol: /^https?$/, error: 'WEBHOOK_URLS must be http(s) URLs separated by commas' })).default([]),
  ),
  WEBHOOK_MAX_QUEUE: positiveInt('WEBHOOK_MAX_QUEUE', 1000, 1_000_000),
  WEBHOOK_MAX_ATTEMPTS: positiveInt('WEBHOOK_MAX_ATTEMPTS', 8, 100),
  WEBHOOK_RETRY_BASE_MS: positiveInt('WEBHOOK_RETRY_BASE_MS', 1000, 3_600_000),
  WEBHOOK_TIMEOUT_MS: positiveInt('WEBHOOK_TIMEOUT_MS', 5000, 120_000),
  /** GET /metrics: `token` needs a staff token (admin, operator, auditor) or METRICS_TOKEN; `public` needs none. */
  METRICS_ACCESS: z.enum(['token', 'public'], { error: 'METRICS_ACCESS must be token or public' }).default('token'),
  METRICS_TOKEN: z.preprocess(emptyAsUndefined, z.string().min(24, 'METRICS_TOKEN must be at least 24 characters').optional()),
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
  /** Embedded broker: connects per second from one address after a burst of MQTT_CONNECT_BURST (0: no limit). */
  MQTT_CONNECTS_PER_SECOND: z.preprocess(
    emptyAsUndefined,
    z.coerce
      .number({ error: 'MQTT_CONNECTS_PER_SECOND must be a number' })
      .min(0, 'MQTT_CONNECTS_PER_SECOND must be 0 (no limit) or more')
      .max(1_000_000)
      .default(20),
  ),
  MQTT_CONNECT_BURST: positiveInt('MQTT_CONNECT_BURST', 500, 1_000_000),
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
