import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, release, totalmem } from 'node:os';
import { join } from 'node:path';
import type { CeilingResult } from './broker-ceiling';
import type { BenchOptions } from './cli-args';
import { type CpuBounds, type CpuBudget, cpuBounds } from './cpu-budget';
import type { ModeResult } from './end-to-end';
import type { PhaseResult } from './load-runs';
import { mib } from './process-stats';

const n0 = (x: number) => Math.round(x).toLocaleString('en-US');

/** Issue #8's targets (2 cores, publisher and servers on the same machine). */
export const TARGETS = {
  embeddedEventsPerSecond: 8000,
  scaledEventsPerSecond: 10_000,
  /** Of the broker ceiling; each event is two broker messages, so 50 % is the broker's bound. */
  ratioToCeiling: 0.3,
  p99MsAt1000: 25,
  p99MsAt5000: 50,
  /** 10,000 connected devices on one embedded gateway. */
  idleFleetRssBytes: 1024 ** 3,
  /** Memory under overload, over its steady value. */
  overloadRssRatio: 1.5,
} as const;

export interface TargetCheck {
  mode: 'embedded' | 'scaled';
  target: string;
  measured: string;
  met: boolean;
}

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
  modes: (ModeResult & {
    ceilingMsgsPerSecond: number | null;
    ratioToCeiling: number | null;
    /** What the saturated run's CPU says bounds the rate on this machine. */
    saturationBounds: CpuBounds;
  })[];
  targets: TargetCheck[];
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
    return {
      ...m,
      ceilingMsgsPerSecond: ceiling,
      ratioToCeiling: ceiling ? m.saturation.ackedPerSecond / ceiling : null,
      saturationBounds: cpuBounds(m.saturation.cpu, m.saturation.acked),
    };
  });
}

export function targetsFor(modes: BenchReport['modes']): TargetCheck[] {
  const checks: TargetCheck[] = [];
  for (const m of modes) {
    const add = (target: string, measured: string, met: boolean) => checks.push({ mode: m.mode, target, measured, met });
    const floor = m.mode === 'embedded' ? TARGETS.embeddedEventsPerSecond : TARGETS.scaledEventsPerSecond;
    add(`≥ ${n0(floor)} events/s end to end`, `${n0(m.saturation.ackedPerSecond)}`, m.saturation.ackedPerSecond >= floor);
    if (m.ratioToCeiling !== null) {
      add(
        `≥ ${TARGETS.ratioToCeiling * 100} % of the broker ceiling`,
        `${(m.ratioToCeiling * 100).toFixed(1)} %`,
        m.ratioToCeiling >= TARGETS.ratioToCeiling,
      );
    }
    for (const [rate, limit] of [
      [1000, TARGETS.p99MsAt1000],
      [5000, TARGETS.p99MsAt5000],
    ] as const) {
      const run = m.fixedLoads.find((f) => f.rate === rate);
      if (run) add(`p99 ≤ ${limit} ms at ${n0(rate)} events/s`, `${run.latency.p99Ms} ms`, run.latency.p99Ms <= limit);
    }
    if (m.mode === 'embedded' && m.idleFleet && m.idleFleet.devices >= 10_000) {
      const rss = Math.max(m.idleFleet.rssConnectedBytes, m.idleFleet.load.gatewayMaxRssBytes);
      add(`${n0(m.idleFleet.devices)} connected devices in ≤ 1 GiB`, `${mib(rss)} MiB`, rss <= TARGETS.idleFleetRssBytes);
    }
    if (m.overload) {
      add(
        `overload RSS ≤ ${TARGETS.overloadRssRatio} × steady`,
        `${m.overload.rssRatio.toFixed(2)} ×`,
        m.overload.rssRatio <= TARGETS.overloadRssRatio,
      );
    }
  }
  return checks;
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

const pct = (share: number | null) => (share === null ? '?' : `${(share * 100).toFixed(1)} %`);

/** The gateway's own share of a phase's latency (its /metrics), or '' when it was not read. */
function insideGateway(p: Pick<PhaseResult, 'gatewayAckLatency' | 'gatewayCommitLatency'>): string {
  const a = p.gatewayAckLatency;
  if (!a) return '';
  const c = p.gatewayCommitLatency;
  const commit = c ? `; a commit p50 ≈ ${c.p50Ms} ms, p99 ≈ ${c.p99Ms} ms` : '';
  return `arrival → ack taken by the broker: p50 ≈ ${a.p50Ms} ms, p99 ≈ ${a.p99Ms} ms, ${pct(a.within25MsShare)} ≤ 25 ms, ${pct(a.within50MsShare)} ≤ 50 ms${commit}`;
}

const per1000 = (seconds: number, events: number) => ((seconds / events) * 1000).toFixed(3);

/** A phase's CPU per 1,000 events, by process and by gateway thread. */
export function formatCpuBudget(cpu: CpuBudget, events: number): string {
  const g = cpu.gateway;
  const threads = [`main thread ${per1000(g.mainThreadSeconds, events)}`];
  if (g.databaseThreadSeconds !== null) threads.push(`database thread ${per1000(g.databaseThreadSeconds, events)}`);
  threads.push(`Node's other threads ${per1000(g.otherThreadsSeconds, events)}`);
  const parts = [`gateway ${per1000(g.seconds, events)} s (${threads.join(', ')})`];
  for (const s of cpu.services)
    parts.push(s.processes > 0 ? `${s.label} ${per1000(s.seconds, events)} s` : `${s.label} not on this machine`);
  parts.push(`bench client ${per1000(cpu.benchSeconds, events)} s`, `the rest ${per1000(cpu.restSeconds, events)} s`);
  const steal = cpu.stealSeconds > 0 ? `; the hypervisor took ${cpu.stealSeconds.toFixed(2)} s (steal)` : '';
  return `${parts.join(', ')}${steal}`;
}

const approx = (rate: number) => (Number.isFinite(rate) ? `≈ ${n0(rate)} events/s` : 'no bound');

/** The bounds a saturated run's CPU sets, in words. */
export function formatBounds(b: CpuBounds, cores: number): string {
  return (
    `${(b.machineBusyShare * 100).toFixed(0)} % of ${cores} cores busy; all of them at ${approx(b.machineEventsPerSecond)}; ` +
    `the ${b.busiestThread.label} (${(b.busiestThread.busyShare * 100).toFixed(0)} % busy) at ${approx(b.busiestThread.eventsPerSecond)}; ` +
    `everything but the gateway would fill the cores at ${approx(b.withoutGatewayEventsPerSecond)}`
  );
}

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
    const lat = (l: { p50Ms: number; p95Ms: number; p99Ms: number; maxMs: number }) =>
      `p50 ${l.p50Ms} ms  p95 ${l.p95Ms} ms  p99 ${l.p99Ms} ms  max ${l.maxMs} ms`;
    rows.push(['', '']);
    rows.push([`${mode.mode}: end to end, saturated (${mode.devices} bins × window ${mode.window}, ${mode.residents} residents)`, '']);
    rows.push(['credited+acked', `${n0(s.ackedPerSecond)} events/s  (${n0(s.acked)} in ${s.seconds.toFixed(2)} s)`]);
    if (mode.ratioToCeiling !== null)
      rows.push(['of broker ceiling', `${(mode.ratioToCeiling * 100).toFixed(1)} %  (${n0(mode.ceilingMsgsPerSecond!)} msg/s)`]);
    rows.push(['ack latency', lat(s.latency)]);
    const inside = (p: Pick<PhaseResult, 'gatewayAckLatency' | 'gatewayCommitLatency'>, label = '  inside the gateway') => {
      const text = insideGateway(p);
      if (text) rows.push([label, text]);
    };
    inside(s);
    rows.push(['CPU per 1,000 events', formatCpuBudget(s.cpu, s.acked)]);
    rows.push(['  what bounds the rate', formatBounds(mode.saturationBounds, s.cpu.cores)]);
    if (s.meanBatchSize !== null)
      rows.push(['group commit', `${n0(s.commitBatches!)} transactions, ${s.meanBatchSize.toFixed(1)} events each on average`]);
    rows.push(['gateway RSS', `max ${mib(s.gatewayMaxRssBytes)} MiB`]);
    for (const f of mode.fixedLoads) {
      rows.push([
        `fixed ${n0(f.rate)}/s × ${f.durationSeconds} s`,
        `${lat(f.latency)}  (${f.gatewayCpuSecondsPer1000.toFixed(3)} s CPU per 1,000)`,
      ]);
      inside(f);
    }
    if (mode.idleFleet) {
      const i = mode.idleFleet;
      rows.push([
        `${n0(i.devices)} idle devices`,
        `${n0(i.connected)} connected in ${i.connectSeconds.toFixed(1)} s; RSS ${mib(i.rssBeforeBytes)} → ${mib(i.rssConnectedBytes)} MiB connected, max ${mib(i.load.gatewayMaxRssBytes)} MiB under load`,
      ]);
      rows.push([
        `  + ${n0(i.load.rate)} events/s × ${i.load.durationSeconds} s`,
        `${lat(i.load.latency)}  (${n0(i.heartbeatsSent)} heartbeats)`,
      ]);
      inside(i.load, '    inside the gateway');
    }
    if (mode.overload) {
      const o = mode.overload;
      rows.push([
        `overload ${o.factor} × = ${n0(o.load.rate)}/s × ${o.load.durationSeconds} s`,
        `all ${n0(o.load.acked)} acked ${o.load.seconds.toFixed(1)} s after the first send (sending took ${o.load.sendSeconds.toFixed(1)} s); ${lat(o.load.latency)}`,
      ]);
      rows.push([
        '  memory',
        `RSS max ${mib(o.maxRssBytes)} MiB = ${o.rssRatio.toFixed(2)} × steady ${mib(o.steadyRssBytes)} MiB; ${n0(o.resent)} events resent by devices`,
      ]);
    }
    rows.push([
      'gateway memory',
      `peak RSS (VmHWM) ${mib(mode.gatewayPeakRssBytes)} MiB, max sampled VmRSS ${mib(mode.gatewaySampledMaxRssBytes)} MiB`,
    ]);
    rows.push(['setup', `${mode.setupSeconds.toFixed(1)} s (start, residents, bins, connect)`]);
    for (const [label, v] of [
      ['ledger check', mode.verification],
      ['  after every run', mode.finalVerification],
    ] as const) {
      const detail = `${n0(v.creditedAcks)}/${n0(v.eventsSent)} credited once, ${n0(v.pointsInApi)}/${n0(v.pointsExpected)} points over ${v.residentsChecked} residents`;
      rows.push([label, v.passed ? `PASS  ${detail}` : `FAIL  ${v.problems.join('; ')}`]);
    }
  }
  if (r.targets.length > 0) {
    rows.push(['', '']);
    rows.push(['targets (issue #8)', '']);
    for (const t of r.targets) rows.push([`${t.met ? '✓' : '✗'} ${t.mode}: ${t.target}`, t.measured]);
  }
  rows.push(['', '']);
  rows.push([r.error ? `ERROR: ${r.error}` : r.passed ? 'RESULT: PASS (ledger verified)' : 'RESULT: FAIL (ledger mismatch)', '']);
  return table(rows);
}
