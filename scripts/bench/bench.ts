import { loadavg } from 'node:os';
import { join } from 'node:path';
import { type CeilingResult, measureBrokerCeiling, startRawAedes } from './broker-ceiling';
import { cleanUp, installExitHandlers, isInterrupted } from './cleanup';
import { type BenchOptions, USAGE, UsageError, parseBenchArgs } from './cli-args';
import { type ModeResult, runEndToEnd } from './end-to-end';
import type { ScaledTarget } from './gateway-runner';
import { type BenchReport, formatReport, machineFacts, targetsFor, withRatios, writeReport } from './report';

/**
 * `npm run bench`: (1) the broker ceiling, (2) end to end as fast as acks
 * return, verified against the ledger, (3) a fixed load; embedded mode always,
 * scaled mode too when BENCH_DATABASE_URL and BENCH_MQTT_URL are set.
 * Progress on stderr, the table on stdout, JSON in bench-results/latest.json.
 */
const REPO_ROOT = join(__dirname, '..', '..', '..');
const CEILING_PAYLOAD_BYTES = 150;

const benchStarted = performance.now();
function progress(line: string): void {
  process.stderr.write(`[bench ${((performance.now() - benchStarted) / 1000).toFixed(1).padStart(6)} s] ${line}\n`);
}

function scaledTarget(): ScaledTarget | null {
  const databaseUrl = process.env['BENCH_DATABASE_URL'];
  const mqttUrl = process.env['BENCH_MQTT_URL'];
  return databaseUrl && mqttUrl ? { databaseUrl, mqttUrl } : null;
}

async function brokerCeilings(options: BenchOptions, scaled: ScaledTarget | null): Promise<BenchReport['brokerCeiling']> {
  const ceilingOptions = { messages: options.brokerMessages, window: options.brokerWindow, payloadBytes: CEILING_PAYLOAD_BYTES };
  progress(`broker ceiling: ${options.brokerMessages} × ${CEILING_PAYLOAD_BYTES}-byte QoS 1 messages, window ${options.brokerWindow}`);
  let aedes: CeilingResult | null = null;
  if (options.modes.includes('embedded')) {
    const raw = await startRawAedes();
    try {
      aedes = await measureBrokerCeiling('aedes 1.2 (raw, own process)', {
        ...ceilingOptions,
        url: raw.url,
        protocolVersion: 4,
        brokerPid: raw.pid,
      });
    } finally {
      await raw.stop();
    }
    progress(`broker ceiling: aedes ${aedes.msgsPerSecond.toFixed(0)} msg/s`);
  }
  let external: CeilingResult | null = null;
  if (scaled && options.modes.includes('scaled')) {
    external = await measureBrokerCeiling(`external ${scaled.mqttUrl} (MQTT 5)`, {
      ...ceilingOptions,
      url: scaled.mqttUrl,
      protocolVersion: 5,
    });
    progress(`broker ceiling: external ${external.msgsPerSecond.toFixed(0)} msg/s (${external.received}/${external.messages} received)`);
  }
  return { aedes, external };
}

async function main(): Promise<number> {
  let options: BenchOptions;
  try {
    options = parseBenchArgs(process.argv.slice(2));
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    process.stderr.write(`${err.message}\n`);
    return err.message === USAGE ? 0 : 2;
  }
  installExitHandlers();
  const loadAverageBefore = loadavg()[0] ?? 0;
  if (loadAverageBefore > 0.5) progress(`warning: load average ${loadAverageBefore.toFixed(2)} before starting: the machine is busy`);
  const scaled = scaledTarget();
  if (!scaled && !options.modes.includes('embedded')) {
    process.stderr.write('--modes scaled needs BENCH_DATABASE_URL and BENCH_MQTT_URL (the PostgreSQL and MQTT broker to run against)\n');
    return 2;
  }
  progress(`options ${JSON.stringify(options)}; scaled mode ${scaled ? 'on' : 'off (set BENCH_DATABASE_URL and BENCH_MQTT_URL)'}`);

  let ceilings: BenchReport['brokerCeiling'] = { aedes: null, external: null };
  const modes: ModeResult[] = [];
  let error: string | null = null;
  try {
    if (!options.skipBroker) ceilings = await brokerCeilings(options, scaled);
    if (options.modes.includes('embedded')) modes.push(await runEndToEnd('embedded', null, options, progress));
    if (scaled && options.modes.includes('scaled')) modes.push(await runEndToEnd('scaled', scaled, options, progress));
  } catch (err) {
    error = err instanceof Error ? err.message : String(err);
    progress(`error: ${err instanceof Error && err.stack ? err.stack : error}`);
  } finally {
    await cleanUp();
  }
  // The signal handler exits once clean-up is done; a torn-down run writes no report.
  if (isInterrupted()) await new Promise(() => {});

  const withCeilings = withRatios(modes, ceilings);
  const report: BenchReport = {
    date: new Date().toISOString(),
    machine: machineFacts(loadAverageBefore),
    options,
    brokerCeiling: ceilings,
    modes: withCeilings,
    targets: targetsFor(withCeilings),
    passed: error === null && modes.every((m) => m.verification.passed && m.finalVerification.passed),
    error,
  };
  const file = writeReport(report, REPO_ROOT);
  process.stdout.write(`${formatReport(report)}\n`);
  progress(`results written to ${file}`);
  return report.passed ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`bench: ${err instanceof Error && err.stack ? err.stack : String(err)}\n`);
    void cleanUp().finally(() => process.exit(1));
  },
);
