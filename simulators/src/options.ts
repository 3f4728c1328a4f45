import { parseArgs } from 'node:util';
import { z } from 'zod';
import { type FlakyLinkSettings, NO_FAULTS, parseFlakySettings } from './flaky-link';

export const USAGE = `npm run simulate -- [options]

Gateway
  --mqtt-url URL            broker the devices use (default mqtt://localhost:1883, the embedded one)
  --http-url URL            admin API (default http://localhost:3000)
  --admin-token TOKEN       admin token (or env JIFEN_ADMIN_TOKEN); not needed with --start-gateway
  --mqtt-version 4|5        MQTT 3.1.1 (aedes, default) or 5 (Mosquitto, EMQX)
  --start-gateway           start the built gateway (embedded mode, temp data) for this run
  --state FILE              demo population, reused across runs (default .jifen-sim/state.json)

Population and behaviour (seeded: --seed N repeats a run)
  --seed N                  default 1
  --residents N --bins N --terminals N --counters N   (default 30, 3, 2, 1)
  --duration S              seconds of traffic (default 60); --drain S: wait for acks after (default 60)
  --rate R                  mean events per second over the day (default 5)
  --day-seconds S           one simulated day takes S seconds (default: --duration); --start-hour H (default 7)
  --double-tap P            share of terminal taps repeated (default 0.15)
  --lost-cards P            share of residents who lose their card mid-run (default 0.05)
  --unknown-cards P         share of events from unregistered cards (default 0.02)
  --outbox-dir DIR          durable on-disk outboxes (default: in memory)
  --resend-first-ms MS --resend-max-ms MS   resend backoff (protocol: 10000 and 300000)

Faults
  --flaky[=loss=0.1,dup=0.1,reorder=0.15,delay=30]  lossy link both ways
  --reconnect-storm         every device drops its link at once, 40 % into the run
  --clock-skew S            device clocks off by up to ±S seconds
  --offline S               a third of the devices go offline 25 % into the run for S seconds, then replay
  --jam                     one bin jams 30 % into the run for a fifth of it (fault JAM, deposits refused)
  --restart-gateway         SIGKILL and restart the gateway mid-run (needs --start-gateway)

Load (the benchmark's mode)
  --load                    deposits only, from --connections N bins (default 10)
  --target-rate R|max       events per second in all, or max: as fast as acks come back (default max)
  --window N                with max: events in flight per connection (default 4)

Serial chain
  --serial                  virtual PN532 + Modbus scale on socat ptys driving the edge bridge (see devices/README.md)

Output
  --json FILE               also write the final report as JSON
  --quiet                   no live progress line
`;

const num = (name: string, min = 0) => z.coerce.number({ error: `${name} must be a number` }).min(min, `${name} must be at least ${min}`);
const share = (name: string) => num(name).max(1, `${name} is a share between 0 and 1`);

const optionsSchema = z.object({
  mqttUrl: z.url('--mqtt-url must be a URL like mqtt://host:1883').default('mqtt://localhost:1883'),
  httpUrl: z.url('--http-url must be a URL like http://host:3000').default('http://localhost:3000'),
  adminToken: z.string().optional(),
  mqttVersion: z.coerce
    .number()
    .pipe(z.union([z.literal(4), z.literal(5)], { error: '--mqtt-version is 4 or 5' }))
    .default(4),
  startGateway: z.boolean().default(false),
  state: z.string().default('.jifen-sim/state.json'),
  seed: num('--seed').int().default(1),
  residents: num('--residents', 1).int().default(30),
  bins: num('--bins').int().default(3),
  terminals: num('--terminals').int().default(2),
  counters: num('--counters').int().default(1),
  duration: num('--duration', 1).default(60),
  drain: num('--drain').default(60),
  rate: num('--rate').default(5),
  daySeconds: num('--day-seconds', 1).optional(),
  startHour: num('--start-hour').max(24).default(7),
  doubleTap: share('--double-tap').default(0.15),
  lostCards: share('--lost-cards').default(0.05),
  unknownCards: share('--unknown-cards').default(0.02),
  outboxDir: z.string().optional(),
  resendFirstMs: num('--resend-first-ms', 10).default(10_000),
  resendMaxMs: num('--resend-max-ms', 10).default(300_000),
  flaky: z.custom<FlakyLinkSettings>().default(NO_FAULTS),
  reconnectStorm: z.boolean().default(false),
  clockSkew: num('--clock-skew').default(0),
  offline: num('--offline').default(0),
  jam: z.boolean().default(false),
  restartGateway: z.boolean().default(false),
  load: z.boolean().default(false),
  connections: num('--connections', 1).int().default(10),
  targetRate: z.union([z.literal('max'), num('--target-rate', 0.1)]).default('max'),
  window: num('--window', 1).int().default(4),
  serial: z.boolean().default(false),
  json: z.string().optional(),
  quiet: z.boolean().default(false),
});
export type SimulatorOptions = z.infer<typeof optionsSchema>;

const STRING_FLAGS = [
  'mqtt-url',
  'http-url',
  'admin-token',
  'mqtt-version',
  'state',
  'seed',
  'residents',
  'bins',
  'terminals',
  'counters',
  'duration',
  'drain',
  'rate',
  'day-seconds',
  'start-hour',
  'double-tap',
  'lost-cards',
  'unknown-cards',
  'outbox-dir',
  'resend-first-ms',
  'resend-max-ms',
  'clock-skew',
  'offline',
  'connections',
  'target-rate',
  'window',
  'json',
] as const;
const BOOLEAN_FLAGS = ['start-gateway', 'reconnect-storm', 'jam', 'restart-gateway', 'load', 'serial', 'quiet', 'help'] as const;

const camel = (flag: string) => flag.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());

/** Parses the command line; throws an Error whose message says which flag is wrong and how. */
export function parseSimulatorArgs(argv: string[], env: NodeJS.ProcessEnv = {}): SimulatorOptions | 'help' {
  // --flaky takes an optional value, which parseArgs cannot express: pull it out first.
  let flaky: FlakyLinkSettings | undefined;
  const rest: string[] = [];
  for (const arg of argv) {
    if (arg === '--flaky') flaky = parseFlakySettings('');
    else if (arg.startsWith('--flaky=')) flaky = parseFlakySettings(arg.slice('--flaky='.length));
    else rest.push(arg);
  }
  const { values } = parseArgs({
    args: rest,
    options: {
      ...Object.fromEntries(STRING_FLAGS.map((f) => [f, { type: 'string' as const }])),
      ...Object.fromEntries(BOOLEAN_FLAGS.map((f) => [f, { type: 'boolean' as const }])),
    },
    strict: true,
    allowPositionals: false,
  });
  if (values['help']) return 'help';
  const raw: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(values)) if (key !== 'help') raw[camel(key)] = value;
  if (flaky) raw['flaky'] = flaky;
  raw['adminToken'] ??= env['JIFEN_ADMIN_TOKEN'];
  const parsed = optionsSchema.safeParse(raw);
  if (!parsed.success) {
    throw new Error(
      parsed.error.issues
        .map((i) => `${i.path.length ? `--${String(i.path[0]).replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}` : ''}: ${i.message}`)
        .join('\n'),
    );
  }
  const options = parsed.data;
  if (options.restartGateway && !options.startGateway)
    throw new Error('--restart-gateway needs --start-gateway: the simulator restarts only a gateway it started');
  if (!options.startGateway && !options.adminToken) throw new Error('--admin-token is required (or JIFEN_ADMIN_TOKEN, or --start-gateway)');
  return options;
}
