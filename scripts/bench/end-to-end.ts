import { AdminApi, createPopulation, ingestCounters, metricsText } from './admin-api';
import type { BenchOptions } from './cli-args';
import { LOCAL_SERVERS } from './cpu-budget';
import { PROTOCOL_RESEND_POLICY } from '../../libs/protocol/src/device';
import { Fleet } from './fleet';
import { BENCH_ADMIN_TOKEN, type ScaledTarget, startGateway } from './gateway-runner';
import { HeartbeatFleet } from './heartbeat-fleet';
import { type PhaseContext, type PhaseResult, runOpenLoop, runSaturation } from './load-runs';
import { readMemory } from './process-stats';
import { type SeededDevices, seedHeartbeatDevices } from './seed-devices';
import { type Verification, verifyLedger } from './verify-ledger';

export type OpenLoopResult = PhaseResult & { rate: number; durationSeconds: number; sendSeconds: number };

export interface IdleFleetResult {
  devices: number;
  connected: number;
  connectSeconds: number;
  heartbeatsSent: number;
  /** VmRSS before the idle devices connected, and once they all were. */
  rssBeforeBytes: number;
  rssConnectedBytes: number;
  load: OpenLoopResult;
}

export interface OverloadResult {
  factor: number;
  load: OpenLoopResult;
  /** The largest VmRSS of the fixed loads and just before the overload: the steady value. */
  steadyRssBytes: number;
  /** The largest VmRSS sampled during the overload and until its last ack. */
  maxRssBytes: number;
  rssRatio: number;
  /** Events the devices published again after 10 s without an ack (a broker dropped them, or they waited that long). */
  resent: number;
}

export interface ModeResult {
  mode: 'embedded' | 'scaled';
  devices: number;
  residents: number;
  window: number;
  setupSeconds: number;
  saturation: PhaseResult;
  /** After the saturating run. */
  verification: Verification;
  fixedLoads: OpenLoopResult[];
  idleFleet: IdleFleetResult | null;
  overload: OverloadResult | null;
  /** After every run, cumulative. */
  finalVerification: Verification;
  /** VmHWM at the end of the run. */
  gatewayPeakRssBytes: number;
  /** The largest VmRSS sampled every 500 ms during the load phases. */
  gatewaySampledMaxRssBytes: number;
}

/** PROTOCOL.md: a device resends an unacked event after 10 s. */
const DEVICE_RESEND_MS = 10_000;

/**
 * Scenarios 2–5 against one freshly started gateway: set up a community,
 * connect the bins, saturate, verify; fixed loads; idle devices with a stream;
 * overload; verify again.
 */
export async function runEndToEnd(
  mode: 'embedded' | 'scaled',
  scaled: ScaledTarget | null,
  options: BenchOptions,
  progress: (line: string) => void,
): Promise<ModeResult> {
  const setupStarted = performance.now();
  progress(
    `${mode}: starting the gateway${options.fleetDevices > 0 ? `, with ${options.fleetDevices} idle devices registered first` : ''}`,
  );
  let seeded: SeededDevices | null = null;
  const gateway = await startGateway(scaled, async (target) => {
    if (options.fleetDevices > 0) seeded = await seedHeartbeatDevices(target, options.fleetDevices);
  });
  let fleet: Fleet | null = null;
  let idle: HeartbeatFleet | null = null;
  try {
    const api = new AdminApi(gateway.baseUrl, BENCH_ADMIN_TOKEN);
    progress(
      `${mode}: gateway ${gateway.baseUrl} (pid ${gateway.pid}), MQTT ${gateway.mqttUrl}; creating ${options.residents} residents and ${options.devices} bins`,
    );
    const population = await createPopulation(api, options.residents, options.devices);
    fleet = new Fleet(population, gateway.mqttUrl, gateway.protocolVersion);
    await fleet.connectAll();
    const setupSeconds = (performance.now() - setupStarted) / 1000;
    progress(
      `${mode}: ${options.devices} bins connected after ${setupSeconds.toFixed(1)} s; saturating with ${options.events} events, window ${options.window}/device`,
    );

    const ctx: PhaseContext = {
      fleet,
      gatewayPid: gateway.pid,
      services: mode === 'scaled' ? LOCAL_SERVERS : [],
      stallMs: 30_000,
      progress: (l: string) => progress(`${mode} ${l}`),
      ingestCounters: () => ingestCounters(api),
      gatewayMetrics: () => metricsText(api),
    };
    const saturation = await runSaturation(ctx, options.events, options.window);
    progress(`${mode}: ${saturation.ackedPerSecond.toFixed(0)} events/s, p99 ${saturation.latency.p99Ms} ms; verifying the ledger`);
    const verification = await verifyLedger(api, fleet);
    progress(`${mode}: verification ${verification.passed ? 'PASS' : `FAIL: ${verification.problems.join('; ')}`}`);

    const fixedLoads: OpenLoopResult[] = [];
    for (const rate of options.rates) {
      progress(`${mode}: fixed load, ${rate} events/s for ${options.durationSeconds} s`);
      const fixed = await runOpenLoop(ctx, `fixed ${rate}/s`, rate, options.durationSeconds);
      progress(`${mode}: fixed ${rate}/s p50 ${fixed.latency.p50Ms} ms, p99 ${fixed.latency.p99Ms} ms`);
      fixedLoads.push(fixed);
    }

    let idleFleet: IdleFleetResult | null = null;
    const devices = seeded as SeededDevices | null;
    if (devices) {
      const rssBeforeBytes = readMemory(gateway.pid).rssBytes;
      progress(
        `${mode}: connecting ${devices.ids.length} idle devices (persistent sessions, acks + commands subscriptions, telemetry every 60 s)`,
      );
      const connectStarted = performance.now();
      idle = new HeartbeatFleet(devices, gateway.mqttUrl, gateway.protocolVersion);
      await idle.connectAll(100, (n) => progress(`${mode}: ${n}/${devices.ids.length} idle devices connected`));
      const connectSeconds = (performance.now() - connectStarted) / 1000;
      const rssConnectedBytes = readMemory(gateway.pid).rssBytes;
      progress(
        `${mode}: ${idle.connected} idle devices connected in ${connectSeconds.toFixed(1)} s; ${options.fleetRate} events/s for ${options.fleetSeconds} s beside them`,
      );
      const load = await runOpenLoop(ctx, `fleet + ${options.fleetRate}/s`, options.fleetRate, options.fleetSeconds);
      idleFleet = {
        devices: devices.ids.length,
        connected: idle.connected,
        connectSeconds,
        heartbeatsSent: idle.heartbeatsSent,
        rssBeforeBytes,
        rssConnectedBytes,
        load,
      };
      progress(
        `${mode}: with the idle fleet p50 ${load.latency.p50Ms} ms, p99 ${load.latency.p99Ms} ms, gateway RSS ${Math.round(load.gatewayMaxRssBytes / 2 ** 20)} MiB`,
      );
      await idle.closeAll();
      idle = null;
    }

    let overload: OverloadResult | null = null;
    if (options.overloadSeconds > 0) {
      const rate = Math.round(saturation.ackedPerSecond * options.overloadFactor);
      const steadyRssBytes = Math.max(readMemory(gateway.pid).rssBytes, ...fixedLoads.map((f) => f.gatewayMaxRssBytes));
      progress(
        `${mode}: overload, ${rate} events/s (${options.overloadFactor} × saturated) for ${options.overloadSeconds} s; devices resend after 10 s`,
      );
      fleet.resendAfter(DEVICE_RESEND_MS);
      const resentBefore = fleet.tally.resent;
      // Past the broker's queue limit an event is dropped and waits for its device's
      // next resend, which backs off to 5 minutes: the last ones of a long overload can
      // go that long without an ack (a 60 s limit failed a healthy scaled run, 6 Dec).
      const load = await runOpenLoop({ ...ctx, stallMs: PROTOCOL_RESEND_POLICY.maxMs + 60_000 }, 'overload', rate, options.overloadSeconds);
      fleet.resendAfter(null);
      overload = {
        factor: options.overloadFactor,
        load,
        steadyRssBytes,
        maxRssBytes: load.gatewayMaxRssBytes,
        rssRatio: load.gatewayMaxRssBytes / steadyRssBytes,
        resent: fleet.tally.resent - resentBefore,
      };
      progress(
        `${mode}: overload sent in ${load.sendSeconds.toFixed(1)} s, last ack after ${load.seconds.toFixed(1)} s; RSS ${(overload.rssRatio * 100).toFixed(0)} % of steady`,
      );
    }

    const finalVerification = await verifyLedger(api, fleet);
    progress(`${mode}: final verification ${finalVerification.passed ? 'PASS' : `FAIL: ${finalVerification.problems.join('; ')}`}`);

    return {
      mode,
      devices: options.devices,
      residents: options.residents,
      window: options.window,
      setupSeconds,
      saturation,
      verification,
      fixedLoads,
      idleFleet,
      overload,
      finalVerification,
      gatewayPeakRssBytes: readMemory(gateway.pid).peakRssBytes,
      gatewaySampledMaxRssBytes: Math.max(
        saturation.gatewayMaxRssBytes,
        ...fixedLoads.map((f) => f.gatewayMaxRssBytes),
        idleFleet?.load.gatewayMaxRssBytes ?? 0,
        overload?.maxRssBytes ?? 0,
      ),
    };
  } catch (err) {
    progress(`${mode}: gateway's last output:\n${gateway.recentOutput()}`);
    throw err;
  } finally {
    await idle?.closeAll();
    await fleet?.closeAll();
    await gateway.stop();
  }
}
