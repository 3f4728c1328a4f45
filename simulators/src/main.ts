/* eslint-disable no-console -- the simulator is a command-line program: it talks to people on the terminal */
import { resolve } from 'node:path';
import { AdminClient } from './admin-client';
import { checkBalances, readBalances } from './balance-check';
import { type FleetContext, runFleet } from './fleet-run';
import { LaunchedGateway } from './gateway-launcher';
import { runLoad } from './load-run';
import { USAGE, parseSimulatorArgs } from './options';
import { provisionPopulation } from './population';
import { buildReport, formatReport, writeJsonReport } from './report';
import { RunTally } from './run-tally';
import { runSerialChain } from './serial/serial-run';
import { type VirtualDevice } from './virtual-device';

async function main(): Promise<number> {
  let options;
  try {
    const parsed = parseSimulatorArgs(process.argv.slice(2), process.env);
    if (parsed === 'help') {
      console.log(USAGE);
      return 0;
    }
    options = parsed;
  } catch (err) {
    console.error(`${(err as Error).message}\n\n${USAGE}`);
    return 2;
  }
  const log = (line: string) => process.stderr.write(`${line}\n`);

  let gateway: LaunchedGateway | null = null;
  let httpUrl = options.httpUrl;
  let mqttUrl = options.mqttUrl;
  let adminToken = options.adminToken ?? '';
  if (options.startGateway) {
    gateway = new LaunchedGateway();
    log(`starting a gateway (embedded, data in ${gateway.dataDir}) ...`);
    await gateway.start();
    httpUrl = gateway.httpUrl;
    mqttUrl = gateway.mqttUrl;
    adminToken = gateway.adminToken;
    log(`gateway ready: ${httpUrl}, ${mqttUrl}`);
  }
  const cleanUp = async () => {
    await gateway?.stop();
  };
  process.once('SIGINT', () => void cleanUp().then(() => process.exit(130)));

  try {
    const api = new AdminClient(httpUrl, adminToken);
    // Fail fast at the start (later calls ride out a gateway restart for a minute).
    const isUp = await fetch(`${httpUrl}/health`).then(
      () => true,
      () => false,
    );
    if (!isUp) {
      console.error(`simulator: cannot reach the gateway at ${httpUrl}; start it (npm start), pass --http-url, or use --start-gateway`);
      return 1;
    }
    if (options.serial) return await runSerialChain({ options, api, mqttUrl, log });

    const wanted = options.load
      ? { residents: options.residents, bins: options.connections, terminals: 0, counters: 0 }
      : { residents: options.residents, bins: options.bins, terminals: options.terminals, counters: options.counters };
    log(
      `provisioning ${wanted.residents} residents, ${wanted.bins} bins, ${wanted.terminals} terminals, ${wanted.counters} counter readers ...`,
    );
    const { population, isReused } = await provisionPopulation(api, wanted, resolve(options.state), log);
    // With --load, a reused state may hold terminals; load uses its bins only.
    log(`${isReused ? 'reusing' : 'created'} community ${population.communityId} (state: ${options.state})`);
    const residents = population.residents.slice(0, Math.max(wanted.residents, 1));
    const before = await readBalances(api, residents);

    const tally = new RunTally();
    const ctx: FleetContext = { options, api, population: { ...population, residents }, tally, gateway, mqttUrl, log };
    const started = Date.now();
    const progress = setInterval(() => {
      if (!options.quiet) process.stderr.write(`\r\x1b[2K${tally.progressLine()}`);
    }, 1000);
    let devices: VirtualDevice[] = [];
    try {
      devices = options.load ? await runLoad(ctx) : await runFleet(ctx);
      const seconds = (Date.now() - started) / 1000;
      log(`\ntraffic over after ${seconds.toFixed(1)} s; waiting up to ${options.drain} s for the last acks ...`);
      const drainUntil = Date.now() + options.drain * 1000;
      while (tally.pending > 0 && Date.now() < drainUntil) await new Promise((r) => setTimeout(r, 200));
      clearInterval(progress);
      if (!options.quiet) process.stderr.write(`\r\x1b[2K${tally.progressLine()}\n`);
      // Late duplicates still in flight on a flaky link may bring repeated acks; let them land.
      await new Promise((r) => setTimeout(r, 500));
      const differences = await checkBalances(api, residents, before, tally);
      const link = { lost: 0, duplicated: 0, reordered: 0 };
      for (const d of devices) {
        if (!d.link) continue;
        link.lost += d.link.counters.lost;
        link.duplicated += d.link.counters.duplicated;
        link.reordered += d.link.counters.reordered;
      }
      const report = buildReport({ seed: options.seed, seconds, tally, link, residentsChecked: residents.length, differences });
      console.log(formatReport(report));
      if (options.json) writeJsonReport(options.json, report);
      return report.isOk ? 0 : 1;
    } finally {
      clearInterval(progress);
      await Promise.all(devices.map((d) => d.close()));
    }
  } catch (err) {
    console.error(`simulator: ${(err as Error).message}`);
    if (gateway) console.error(`gateway output:\n${gateway.recentOutput()}`);
    return 1;
  } finally {
    await cleanUp();
  }
}

void main().then((code) => process.exit(code));
