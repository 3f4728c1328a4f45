import type { Histogram } from 'hdr-histogram-js';
import type { IngestCounters } from './admin-api';
import { type Fleet, newLatencyHistogram } from './fleet';
import { type GatewayLatency, histogramFrom, observedBetween, summarizeBuckets } from './gateway-histogram';
import { type CpuBudget, CpuBudgetMeter, type ServiceProcesses } from './cpu-budget';
import { RssSampler } from './process-stats';

export interface LatencySummary {
  p50Ms: number;
  p95Ms: number;
  p99Ms: number;
  p999Ms: number;
  maxMs: number;
  meanMs: number;
}

export interface PhaseResult {
  events: number;
  acked: number;
  /** First send to last ack. */
  seconds: number;
  ackedPerSecond: number;
  latency: LatencySummary;
  gatewayCpuSeconds: number;
  gatewayCpuSecondsPer1000: number;
  benchCpuSeconds: number;
  /** CPU the rest of the machine used meanwhile (the hypervisor's steal not counted): PostgreSQL and the broker in scaled mode, and any other work (noise). */
  otherCpuSeconds: number;
  /** The same phase's CPU by process and by gateway thread (scripts/bench/cpu-budget.ts). */
  cpu: CpuBudget;
  gatewayMaxRssBytes: number;
  /** Group-commit transactions during the phase and their mean size, from /health. */
  commitBatches: number | null;
  meanBatchSize: number | null;
  /**
   * The gateway's own figures for the phase (its /metrics): from an event's
   * arrival to the broker taking its ack, and each group commit. Null when the
   * gateway's metrics could not be read.
   */
  gatewayAckLatency: GatewayLatency | null;
  gatewayCommitLatency: GatewayLatency | null;
}

const ACK_HISTOGRAM = 'jifen_ack_latency_seconds';
const COMMIT_HISTOGRAM = 'jifen_ingest_commit_seconds';

export interface PhaseContext {
  fleet: Fleet;
  gatewayPid: number;
  /** Servers on this machine whose CPU counts apart (scaled mode: PostgreSQL, Mosquitto). */
  services: readonly ServiceProcesses[];
  /** Fail when no ack arrives for this long. */
  stallMs: number;
  progress: (line: string) => void;
  ingestCounters: () => Promise<IngestCounters | null>;
  /** The gateway's /metrics text, or null. */
  gatewayMetrics: () => Promise<string | null>;
}

/** One histogram of the gateway over a phase, from its /metrics before and after. */
function gatewayFigures(before: string | null, after: string | null, name: string): GatewayLatency | null {
  const end = after === null ? null : histogramFrom(after, name);
  if (!end) return null;
  return summarizeBuckets(observedBetween(before === null ? null : histogramFrom(before, name), end));
}

const ms = (us: number) => Math.round(us / 10) / 100;

export function summarize(histogram: Histogram): LatencySummary {
  return {
    p50Ms: ms(histogram.getValueAtPercentile(50)),
    p95Ms: ms(histogram.getValueAtPercentile(95)),
    p99Ms: ms(histogram.getValueAtPercentile(99)),
    p999Ms: ms(histogram.getValueAtPercentile(99.9)),
    maxMs: ms(histogram.maxValue),
    meanMs: ms(histogram.mean),
  };
}

/** Begins sending; may return what to do on each ack (the saturating run sends the next event). */
type StartSending = (startedAt: number) => ((deviceIndex: number) => void) | void;

/**
 * Runs one phase: `startSending` begins; the phase ends when `events` acks have
 * arrived, or fails after `stallMs` without any. Measures the gateway's CPU and
 * RSS over the phase, this process's CPU, and what the rest of the machine used.
 */
async function runPhase(
  ctx: PhaseContext,
  name: string,
  events: number,
  startSending: StartSending,
  stopSending = () => {},
): Promise<PhaseResult> {
  const { fleet } = ctx;
  const histogram = newLatencyHistogram();
  const countersBefore = await ctx.ingestCounters();
  const metricsBefore = await ctx.gatewayMetrics();
  const budget = new CpuBudgetMeter(ctx.gatewayPid, ctx.services);
  const rss = new RssSampler(ctx.gatewayPid).start();
  let acked = 0;
  let ticker: NodeJS.Timeout | null = null;
  const startedAt = performance.now();
  const finished = new Promise<void>((resolve, reject) => {
    let lastAcked = 0;
    let lastProgressAt = performance.now();
    ticker = setInterval(() => {
      const now = performance.now();
      if (acked !== lastAcked) lastProgressAt = now;
      ctx.progress(`${name}: ${acked}/${events} acked (+${acked - lastAcked} in 1 s), ${fleet.outstanding} awaiting an ack`);
      lastAcked = acked;
      if (now - lastProgressAt > ctx.stallMs) {
        reject(
          new Error(`${name}: no ack for ${ctx.stallMs / 1000} s with ${fleet.outstanding} events awaiting one (${acked}/${events} acked)`),
        );
      }
    }, 1000);
    // Acks arrive on later turns of the event loop, never during startSending.
    const onAck = startSending(startedAt);
    fleet.listen({
      histogram,
      onAck: (deviceIndex) => {
        if (onAck) onAck(deviceIndex);
        if (++acked >= events) resolve();
      },
    });
  });
  try {
    await finished;
  } finally {
    if (ticker) clearInterval(ticker);
    stopSending();
    fleet.listen(null);
    rss.stop();
  }
  const seconds = (fleet.lastAckAt - startedAt) / 1000;
  const cpu = budget.stop();
  const gatewayCpuSeconds = cpu.gateway.seconds;
  const benchCpuSeconds = cpu.benchSeconds;
  const otherCpuSeconds = Math.max(0, cpu.machineBusySeconds - gatewayCpuSeconds - benchCpuSeconds);
  const gatewayMaxRssBytes = rss.maxRssBytes;
  const countersAfter = await ctx.ingestCounters();
  const metricsAfter = await ctx.gatewayMetrics();
  const commitBatches = countersBefore && countersAfter ? countersAfter.batches - countersBefore.batches : null;
  return {
    events,
    acked,
    seconds,
    ackedPerSecond: acked / seconds,
    latency: summarize(histogram),
    gatewayCpuSeconds,
    gatewayCpuSecondsPer1000: (gatewayCpuSeconds / acked) * 1000,
    benchCpuSeconds,
    otherCpuSeconds,
    cpu,
    gatewayMaxRssBytes,
    commitBatches,
    meanBatchSize:
      commitBatches && countersBefore && countersAfter ? (countersAfter.committed - countersBefore.committed) / commitBatches : null,
    gatewayAckLatency: gatewayFigures(metricsBefore, metricsAfter, ACK_HISTOGRAM),
    gatewayCommitLatency: gatewayFigures(metricsBefore, metricsAfter, COMMIT_HISTOGRAM),
  };
}

/** Residents in turn, so every one of them gets deposits from many devices. */
function residentCursor(fleet: Fleet): () => number {
  let next = 0;
  return () => next++ % fleet.residentCount;
}

/**
 * As fast as acks return: each device keeps `window` events unacked and sends
 * the next one when an ack arrives, until `events` have been sent in all.
 */
export function runSaturation(ctx: PhaseContext, events: number, window: number): Promise<PhaseResult> {
  const { fleet } = ctx;
  const nextResident = residentCursor(fleet);
  const remaining = Array.from(
    { length: fleet.deviceCount },
    (_, i) => Math.floor(events / fleet.deviceCount) + (i < events % fleet.deviceCount ? 1 : 0),
  );
  const sendFrom = (deviceIndex: number) => {
    if (remaining[deviceIndex]! <= 0) return;
    remaining[deviceIndex]!--;
    fleet.send(deviceIndex, nextResident());
  };
  return runPhase(ctx, 'saturation', events, () => {
    for (let w = 0; w < window; w++) for (let d = 0; d < fleet.deviceCount; d++) sendFrom(d);
    return sendFrom;
  });
}

/**
 * Open loop at `rate` events/s for `durationSeconds`, devices in turn. Latency
 * counts from each event's scheduled time, so a stall in sending is not hidden
 * (coordinated omission). Ends when every event is acked.
 */
export async function runOpenLoop(
  ctx: PhaseContext,
  name: string,
  rate: number,
  durationSeconds: number,
): Promise<PhaseResult & { rate: number; durationSeconds: number; sendSeconds: number }> {
  const { fleet } = ctx;
  const total = Math.max(1, Math.round(rate * durationSeconds));
  const nextResident = residentCursor(fleet);
  let timer: NodeJS.Timeout | null = null;
  let sendStartedAt = 0;
  let sendSeconds = 0;
  const result = await runPhase(
    ctx,
    name,
    total,
    (startedAt) => {
      sendStartedAt = startedAt;
      let sent = 0;
      const tick = () => {
        const due = Math.min(total, Math.floor(((performance.now() - startedAt) * rate) / 1000) + 1);
        for (; sent < due; sent++) fleet.send(sent % fleet.deviceCount, nextResident(), startedAt + (sent * 1000) / rate);
        if (sent >= total && timer) {
          clearInterval(timer);
          sendSeconds = (performance.now() - sendStartedAt) / 1000;
        }
      };
      timer = setInterval(tick, 2);
      tick();
    },
    () => {
      if (timer) clearInterval(timer);
    },
  );
  return { ...result, rate, durationSeconds, sendSeconds: sendSeconds || (performance.now() - sendStartedAt) / 1000 };
}
