/** Command-line options of `npm run bench`; plain parsing, no dependency. */
export interface BenchOptions {
  /** Deposit events in the saturating end-to-end run. */
  events: number;
  devices: number;
  residents: number;
  /** Unacked events each device keeps in flight. */
  window: number;
  /** Fixed-load runs: events per second, each for `durationSeconds`. */
  rates: number[];
  durationSeconds: number;
  /** Scenario 4: idle devices connected, sending telemetry every 60 s, beside a `fleetRate` events/s stream. */
  fleetDevices: number;
  fleetRate: number;
  fleetSeconds: number;
  /** Scenario 5: `overloadFactor` × the saturated rate, open loop, for `overloadSeconds`. */
  overloadFactor: number;
  overloadSeconds: number;
  skipBroker: boolean;
  /** Messages the publisher sends in the broker-ceiling run. */
  brokerMessages: number;
  /** Unacked/undelivered publishes the ceiling publisher keeps in flight. */
  brokerWindow: number;
  quick: boolean;
  /** Which modes to run; scaled also needs BENCH_DATABASE_URL and BENCH_MQTT_URL. */
  modes: BenchMode[];
}

export type BenchMode = 'embedded' | 'scaled';
const MODES: readonly BenchMode[] = ['embedded', 'scaled'];

const FULL: BenchOptions = {
  events: 50_000,
  devices: 50,
  residents: 200,
  window: 20,
  rates: [1000, 5000],
  durationSeconds: 10,
  fleetDevices: 10_000,
  fleetRate: 1000,
  fleetSeconds: 20,
  overloadFactor: 2,
  overloadSeconds: 60,
  skipBroker: false,
  brokerMessages: 50_000,
  brokerWindow: 1000,
  quick: false,
  modes: ['embedded', 'scaled'],
};

/** A smoke run for CI: the whole bench in well under a minute. */
const QUICK: Partial<BenchOptions> = {
  events: 5_000,
  devices: 10,
  residents: 50,
  rates: [1000],
  durationSeconds: 2,
  fleetDevices: 300,
  fleetSeconds: 3,
  overloadSeconds: 3,
  brokerMessages: 10_000,
  quick: true,
};

const NUMERIC: Record<string, keyof BenchOptions> = {
  '--events': 'events',
  '--devices': 'devices',
  '--residents': 'residents',
  '--window': 'window',
  '--duration': 'durationSeconds',
  '--fleet-devices': 'fleetDevices',
  '--fleet-rate': 'fleetRate',
  '--fleet-seconds': 'fleetSeconds',
  '--overload-factor': 'overloadFactor',
  '--overload-seconds': 'overloadSeconds',
  '--broker-messages': 'brokerMessages',
  '--broker-window': 'brokerWindow',
};

export const USAGE = `usage: node dist/scripts/bench/bench.js [options]
  --quick                 small smoke run (5,000 events, 10 devices, 2 s at 1,000/s, 300 idle devices, 3 s overload)
  --events N              events in the saturating end-to-end run (default 50000)
  --devices N             bin devices (default 50)
  --residents N           residents with a card (default 200)
  --window N              unacked events in flight per device (default 20)
  --rates N,M             fixed-load events per second, one run each (default 1000,5000)
  --duration S            seconds of each fixed load (default 10)
  --fleet-devices N       idle devices with 60 s heartbeats in scenario 4 (default 10000; 0 skips it)
  --fleet-rate N          events per second beside them (default 1000)
  --fleet-seconds S       seconds of that stream (default 20)
  --overload-factor N     overload = N × the saturated rate (default 2)
  --overload-seconds S    seconds of overload (default 60; 0 skips it)
  --broker-messages N     messages in the broker-ceiling run (default 50000)
  --broker-window N       publishes in flight in the broker-ceiling run (default 1000)
  --skip-broker           skip the broker-ceiling run
  --modes A,B             modes to run: embedded, scaled or both (default embedded,scaled)
Scaled mode too when BENCH_DATABASE_URL and BENCH_MQTT_URL are set.`;

export class UsageError extends Error {}

/** Parses `--name value` and `--name=value`; later flags win over `--quick`'s defaults. */
export function parseBenchArgs(argv: readonly string[]): BenchOptions {
  const explicit: Partial<Record<keyof BenchOptions, number | boolean | number[] | BenchMode[]>> = {};
  let quick = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const eq = arg.indexOf('=');
    const name = eq === -1 ? arg : arg.slice(0, eq);
    if (name === '--quick') quick = true;
    else if (name === '--skip-broker') explicit.skipBroker = true;
    else if (name === '--help' || name === '-h') throw new UsageError(USAGE);
    else if (name === '--rates') {
      const raw = eq === -1 ? argv[++i] : arg.slice(eq + 1);
      const rates = (raw ?? '').split(',').map(Number);
      if (raw === undefined || rates.some((r) => !Number.isInteger(r) || r < 1)) {
        throw new UsageError(`--rates needs whole numbers ≥ 1 separated by commas, got ${JSON.stringify(raw)}\n${USAGE}`);
      }
      explicit.rates = rates;
    } else if (name === '--modes') {
      const raw = eq === -1 ? argv[++i] : arg.slice(eq + 1);
      const modes = (raw ?? '').split(',');
      if (raw === undefined || modes.some((m) => !MODES.includes(m as BenchMode))) {
        throw new UsageError(`--modes needs embedded, scaled or embedded,scaled, got ${JSON.stringify(raw)}\n${USAGE}`);
      }
      explicit.modes = [...new Set(modes as BenchMode[])];
    } else if (name in NUMERIC) {
      const raw = eq === -1 ? argv[++i] : arg.slice(eq + 1);
      const value = Number(raw);
      const zeroSkips = name === '--fleet-devices' || name === '--overload-seconds';
      if (raw === undefined || !Number.isInteger(value) || value < (zeroSkips ? 0 : 1)) {
        throw new UsageError(`${name} needs a whole number ≥ ${zeroSkips ? 0 : 1}, got ${JSON.stringify(raw)}\n${USAGE}`);
      }
      explicit[NUMERIC[name]!] = value;
    } else {
      throw new UsageError(`unknown option ${JSON.stringify(arg)}\n${USAGE}`);
    }
  }
  return { ...FULL, ...(quick ? QUICK : {}), ...explicit } as BenchOptions;
}

/** A positional count of a bench script (`fallback` when absent); `usage` is shown with a bad one. */
export function positiveArg(arg: string | undefined, fallback: number, usage: string): number {
  if (arg === undefined) return fallback;
  const n = Number(arg);
  if (!Number.isInteger(n) || n <= 0) throw new Error(`${arg} is not a positive whole number\n${usage}`);
  return n;
}
