/** Command-line options of `npm run bench`; plain parsing, no dependency. */
export interface BenchOptions {
  /** Deposit events in the saturating end-to-end run. */
  events: number;
  devices: number;
  residents: number;
  /** Unacked events each device keeps in flight. */
  window: number;
  /** Fixed-load run: events per second, for `durationSeconds`. */
  rate: number;
  durationSeconds: number;
  skipBroker: boolean;
  /** Messages the publisher sends in the broker-ceiling run. */
  brokerMessages: number;
  /** Unacked/undelivered publishes the ceiling publisher keeps in flight. */
  brokerWindow: number;
  quick: boolean;
}

const FULL: BenchOptions = {
  events: 50_000,
  devices: 50,
  residents: 200,
  window: 20,
  rate: 500,
  durationSeconds: 10,
  skipBroker: false,
  brokerMessages: 50_000,
  brokerWindow: 1000,
  quick: false,
};

/** A smoke run for CI: the whole bench in well under a minute. */
const QUICK: Partial<BenchOptions> = {
  events: 5_000,
  devices: 10,
  residents: 50,
  durationSeconds: 2,
  brokerMessages: 10_000,
  quick: true,
};

const NUMERIC: Record<string, keyof BenchOptions> = {
  '--events': 'events',
  '--devices': 'devices',
  '--residents': 'residents',
  '--window': 'window',
  '--rate': 'rate',
  '--duration': 'durationSeconds',
  '--broker-messages': 'brokerMessages',
  '--broker-window': 'brokerWindow',
};

export const USAGE = `usage: node dist/scripts/bench/bench.js [options]
  --quick                 small smoke run (5,000 events, 10 devices, 2 s fixed load)
  --events N              events in the saturating end-to-end run (default 50000)
  --devices N             bin devices (default 50)
  --residents N           residents with a card (default 200)
  --window N              unacked events in flight per device (default 20)
  --rate N                fixed-load events per second (default 500)
  --duration S            fixed-load seconds (default 10)
  --broker-messages N     messages in the broker-ceiling run (default 50000)
  --broker-window N       publishes in flight in the broker-ceiling run (default 1000)
  --skip-broker           skip the broker-ceiling run
Scaled mode too when BENCH_DATABASE_URL and BENCH_MQTT_URL are set.`;

export class UsageError extends Error {}

/** Parses `--name value` and `--name=value`; later flags win over `--quick`'s defaults. */
export function parseBenchArgs(argv: readonly string[]): BenchOptions {
  const explicit: Partial<Record<keyof BenchOptions, number | boolean>> = {};
  let quick = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const eq = arg.indexOf('=');
    const name = eq === -1 ? arg : arg.slice(0, eq);
    if (name === '--quick') quick = true;
    else if (name === '--skip-broker') explicit.skipBroker = true;
    else if (name === '--help' || name === '-h') throw new UsageError(USAGE);
    else if (name in NUMERIC) {
      const raw = eq === -1 ? argv[++i] : arg.slice(eq + 1);
      const value = Number(raw);
      if (raw === undefined || !Number.isInteger(value) || value < 1) {
        throw new UsageError(`${name} needs a whole number ≥ 1, got ${JSON.stringify(raw)}\n${USAGE}`);
      }
      explicit[NUMERIC[name]!] = value;
    } else {
      throw new UsageError(`unknown option ${JSON.stringify(arg)}\n${USAGE}`);
    }
  }
  return { ...FULL, ...(quick ? QUICK : {}), ...explicit } as BenchOptions;
}
