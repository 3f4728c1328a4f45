import { AdminApi, createPopulation, ingestCounters } from './admin-api';
import type { BenchOptions } from './cli-args';
import { Fleet } from './fleet';
import { BENCH_ADMIN_TOKEN, type ScaledTarget, startGateway } from './gateway-runner';
import { type PhaseResult, runFixedRate, runSaturation } from './load-runs';
import { readMemory } from './process-stats';
import { type Verification, verifyLedger } from './verify-ledger';

export interface ModeResult {
  mode: 'embedded' | 'scaled';
  devices: number;
  residents: number;
  window: number;
  setupSeconds: number;
  saturation: PhaseResult;
  /** After the saturating run. */
  verification: Verification;
  fixedLoad: PhaseResult & { rate: number; durationSeconds: number };
  /** After the fixed-load run too, cumulative. */
  finalVerification: Verification;
  /** VmHWM at the end of the run. */
  gatewayPeakRssBytes: number;
  /** The largest VmRSS sampled every 500 ms during the load phases. */
  gatewaySampledMaxRssBytes: number;
}

/**
 * Phases 2 and 3 against one freshly started gateway: set up a community,
 * connect the bins, saturate, verify, then a fixed load, verify again.
 */
export async function runEndToEnd(
  mode: 'embedded' | 'scaled',
  scaled: ScaledTarget | null,
  options: BenchOptions,
  progress: (line: string) => void,
): Promise<ModeResult> {
  const setupStarted = performance.now();
  progress(`${mode}: starting the gateway`);
  const gateway = await startGateway(scaled);
  let fleet: Fleet | null = null;
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

    const ctx = {
      fleet,
      gatewayPid: gateway.pid,
      stallMs: 30_000,
      progress: (l: string) => progress(`${mode} ${l}`),
      ingestCounters: () => ingestCounters(api),
    };
    const saturation = await runSaturation(ctx, options.events, options.window);
    progress(`${mode}: ${saturation.ackedPerSecond.toFixed(0)} events/s, p99 ${saturation.latency.p99Ms} ms; verifying the ledger`);
    const verification = await verifyLedger(api, fleet);
    progress(`${mode}: verification ${verification.passed ? 'PASS' : `FAIL: ${verification.problems.join('; ')}`}`);

    progress(`${mode}: fixed load, ${options.rate} events/s for ${options.durationSeconds} s`);
    const fixed = await runFixedRate(ctx, options.rate, options.durationSeconds);
    progress(`${mode}: fixed load p50 ${fixed.latency.p50Ms} ms, p99 ${fixed.latency.p99Ms} ms`);
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
      fixedLoad: { ...fixed, rate: options.rate, durationSeconds: options.durationSeconds },
      finalVerification,
      gatewayPeakRssBytes: readMemory(gateway.pid).peakRssBytes,
      gatewaySampledMaxRssBytes: Math.max(saturation.gatewayMaxRssBytes, fixed.gatewayMaxRssBytes),
    };
  } catch (err) {
    progress(`${mode}: gateway's last output:\n${gateway.recentOutput()}`);
    throw err;
  } finally {
    await fleet?.closeAll();
    await gateway.stop();
  }
}
