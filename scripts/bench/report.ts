import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, release, totalmem } from 'node:os';
import { join } from 'node:path';
import type { CeilingResult } from './broker-ceiling';
import type { BenchOptions } from './cli-args';
import type { ModeResult } from './end-to-end';
import { mib } from './process-stats';

/** The targets in the benchmark's brief (2-core machine, embedded mode). */
export const TARGETS = { eventsPerSecond: 5000, fixedLoadP99Ms: 50 } as const;

export interface BenchReport {
  date: string;
  machine: {
    cpuModel: string;
    cpuCount: number;
    totalMemoryBytes: number;
    nodeVersion: string;
    platform: string;
    kernel: string;
    /** 1-minute load average before the bench started: other work on the machine skews results. */
    loadAverageBefore: number;
    loadAverageAfter: number;
  };
  options: BenchOptions;
  brokerCeiling: { aedes: CeilingResult | null; external: CeilingResult | null };
  modes: (ModeResult & { ceilingMsgsPerSecond: number | null; ratioToCeiling: number | null })[];
  targets: typeof TARGETS & { eventsPerSecondMet: boolean | null; fixedLoadP99Met: boolean | null };
  /** Every verification passed. */
  passed: boolean;
  error: string | null;
}

export function machineFacts(loadAverageBefore: number): BenchReport['machine'] {
  const list = cpus();
  return {
    cpuModel: list[0]?.model ?? 'unknown',
    cpuCount: list.length,
    totalMemoryBytes: totalmem(),
    nodeVersion: process.version,
    platform: process.platform,
    kernel: release(),
    loadAverageBefore,
    loadAverageAfter: loadavg()[0] ?? 0,
  };
}

/** Adds each mode's ratio to the ceiling of the broker it ran on. */
export function withRatios(modes: ModeResult[], ceilings: BenchReport['brokerCeiling']): BenchReport['modes'] {
  return modes.map((m) => {
    const ceiling = (m.mode === 'embedded' ? ceilings.aedes : ceilings.external)?.msgsPerSecond ?? null;
    return { ...m, ceilingMsgsPerSecond: ceiling, ratioToCeiling: ceiling ? m.saturation.ackedPerSecond / ceiling : null };
  });
}

export function targetsFor(modes: BenchReport['modes']): BenchReport['targets'] {
  const embedded = modes.find((m) => m.mode === 'embedded');
  return {
    ...TARGETS,
    eventsPerSecondMet: embedded ? embedded.saturation.ackedPerSecond >= TARGETS.eventsPerSecond : null,
    fixedLoadP99Met: embedded ? embedded.fixedLoad.latency.p99Ms <= TARGETS.fixedLoadP99Ms : null,
  };
}

/**
 * Writes `bench-results/latest.json` (a full run, the committed record) or
 * `bench-results/quick.json` (a smoke run, not committed) atomically.
 */
export function writeReport(report: BenchReport, repoRoot: string): string {
  const dir = join(repoRoot, 'bench-results');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, report.options.quick ? 'quick.json' : 'latest.json');
  writeFileSync(`${file}.tmp`, `${JSON.stringify(report, null, 2)}\n`);
  renameSync(`${file}.tmp`, file);
  return file;
}

const n0 = (x: number) => Math.round(x).toLocaleString('en-US');
const yes = (ok: boolean | null) => (ok === null ? '' : ok ? '  ✓ target' : '  ✗ target');

function table(rows: [string, string][]): string {
  const width = Math.max(...rows.filter(([, v]) => v !== '').map(([k]) => k.length));
  return rows.map(([k, v]) => (v === '' ? k : `  ${k.padEnd(width)}  ${v}`)).join('\n');
}

/** The human-readable summary printed on stdout at the end. */
export function formatReport(r: BenchReport): string {
  const rows: [string, string][] = [];
  const m = r.machine;
  rows.push([`jifen bench, ${r.date}: ${m.cpuCount} × ${m.cpuModel}, ${mib(m.totalMemoryBytes)} MiB, Node ${m.nodeVersion}`, '']);
  rows.push([
    `load average before ${m.loadAverageBefore.toFixed(2)}, after ${m.loadAverageAfter.toFixed(2)} (other work on the machine skews every figure)`,
    '',
  ]);
  if (r.brokerCeiling.aedes || r.brokerCeiling.external) {
    rows.push(['', '']);
    rows.push(['broker ceiling (1 publisher → 1 QoS 1 subscriber, bench process; broker in its own process)', '']);
  }
  for (const c of [r.brokerCeiling.aedes, r.brokerCeiling.external]) {
    if (!c) continue;
    const lost = c.received < c.messages ? `, ${n0(c.messages - c.received)} LOST` : '';
    rows.push([c.broker, `${n0(c.msgsPerSecond)} msg/s  (${n0(c.received)}/${n0(c.messages)} in ${c.seconds.toFixed(2)} s${lost})`]);
  }
  for (const mode of r.modes) {
    const s = mode.saturation;
    const f = mode.fixedLoad;
    rows.push(['', '']);
    rows.push([`end to end, ${mode.mode} (${mode.devices} bins × window ${mode.window}, ${mode.residents} residents)`, '']);
    rows.push([
      'credited+acked',
      `${n0(s.ackedPerSecond)} events/s  (${n0(s.acked)} in ${s.seconds.toFixed(2)} s)${mode.mode === 'embedded' ? yes(r.targets.eventsPerSecondMet) : ''}`,
    ]);
    if (mode.ratioToCeiling !== null)
      rows.push(['of broker ceiling', `${(mode.ratioToCeiling * 100).toFixed(1)} %  (${n0(mode.ceilingMsgsPerSecond!)} msg/s)`]);
    rows.push([
      'ack latency',
      `p50 ${s.latency.p50Ms} ms  p95 ${s.latency.p95Ms} ms  p99 ${s.latency.p99Ms} ms  max ${s.latency.maxMs} ms`,
    ]);
    rows.push([
      'gateway CPU',
      `${s.gatewayCpuSeconds.toFixed(2)} s = ${s.gatewayCpuSecondsPer1000.toFixed(3)} s per 1,000 events (bench client ${s.benchCpuSeconds.toFixed(2)} s, ${mode.mode === 'scaled' ? 'PostgreSQL + broker + rest' : 'rest'} of machine ${s.otherCpuSeconds.toFixed(2)} s)`,
    ]);
    if (s.meanBatchSize !== null)
      rows.push(['group commit', `${n0(s.commitBatches!)} transactions, ${s.meanBatchSize.toFixed(1)} events each on average`]);
    rows.push([
      `fixed ${n0(f.rate)} events/s × ${f.durationSeconds} s`,
      `p50 ${f.latency.p50Ms} ms  p99 ${f.latency.p99Ms} ms  max ${f.latency.maxMs} ms${mode.mode === 'embedded' ? yes(r.targets.fixedLoadP99Met) : ''}`,
    ]);
    rows.push(['  gateway CPU', `${f.gatewayCpuSecondsPer1000.toFixed(3)} s per 1,000 events (idle included)`]);
    rows.push([
      'gateway memory',
      `peak RSS (VmHWM) ${mib(mode.gatewayPeakRssBytes)} MiB, max sampled VmRSS ${mib(mode.gatewaySampledMaxRssBytes)} MiB`,
    ]);
    rows.push(['setup', `${mode.setupSeconds.toFixed(1)} s (start, residents, bins, connect)`]);
    for (const [label, v] of [
      ['ledger check', mode.verification],
      ['  after fixed load', mode.finalVerification],
    ] as const) {
      const detail = `${n0(v.creditedAcks)}/${n0(v.eventsSent)} credited once, ${n0(v.pointsInApi)}/${n0(v.pointsExpected)} points over ${v.residentsChecked} residents`;
      rows.push([label, v.passed ? `PASS  ${detail}` : `FAIL  ${v.problems.join('; ')}`]);
    }
  }
  rows.push(['', '']);
  rows.push([r.error ? `ERROR: ${r.error}` : r.passed ? 'RESULT: PASS (ledger verified)' : 'RESULT: FAIL (ledger mismatch)', '']);
  return table(rows);
}
