import { writeFileSync } from 'node:fs';
import { type BalanceDifference } from './balance-check';
import { type LinkCounters } from './flaky-link';
import { type RunTally } from './run-tally';

export interface FinalReport {
  seed: number;
  durationSeconds: number;
  sent: number;
  acked: number;
  unacked: number;
  turnedAway: number;
  refusedByOutbox: number;
  repeatedAcks: number;
  repeatMismatches: string[];
  strayAcks: number;
  byOutcome: Record<string, number>;
  latencyMs: { p50: number; p95: number; p99: number; max: number };
  eventsPerSecond: number;
  link: LinkCounters;
  residentsChecked: number;
  balanceDifferences: BalanceDifference[];
  unackedEvents: string[];
  isOk: boolean;
}

export function buildReport(args: {
  seed: number;
  seconds: number;
  tally: RunTally;
  link: LinkCounters;
  residentsChecked: number;
  differences: BalanceDifference[];
}): FinalReport {
  const { tally } = args;
  const report: Omit<FinalReport, 'isOk'> = {
    seed: args.seed,
    durationSeconds: Math.round(args.seconds * 10) / 10,
    sent: tally.sent,
    acked: tally.acked,
    unacked: tally.pending,
    turnedAway: tally.turnedAway,
    refusedByOutbox: tally.refusedByOutbox,
    repeatedAcks: tally.repeatedAcks,
    repeatMismatches: tally.repeatMismatches.slice(0, 20),
    strayAcks: tally.strayAcks,
    byOutcome: Object.fromEntries([...tally.byOutcome.entries()].sort((a, b) => b[1] - a[1])),
    latencyMs: { p50: tally.percentile(50), p95: tally.percentile(95), p99: tally.percentile(99), max: tally.latency.maxValue },
    eventsPerSecond: Math.round((tally.acked / Math.max(0.001, args.seconds)) * 10) / 10,
    link: args.link,
    residentsChecked: args.residentsChecked,
    balanceDifferences: args.differences,
    unackedEvents: tally.pendingKeys().slice(0, 50),
  };
  const isOk =
    report.balanceDifferences.length === 0 && report.unacked === 0 && tally.repeatMismatches.length === 0 && report.strayAcks === 0;
  return { ...report, isOk };
}

export function formatReport(r: FinalReport): string {
  const lines = [
    '',
    `=== simulation report (seed ${r.seed}, ${r.durationSeconds} s) ===`,
    `events sent ${r.sent}, acked ${r.acked}, unacked ${r.unacked}; turned away at jammed bins ${r.turnedAway}; refused by a full outbox ${r.refusedByOutbox}`,
    `acks by outcome: ${
      Object.entries(r.byOutcome)
        .map(([k, v]) => `${k} ${v}`)
        .join(', ') || '(none)'
    }`,
    `ack latency (first publish to ack): p50 ${r.latencyMs.p50} ms, p95 ${r.latencyMs.p95} ms, p99 ${r.latencyMs.p99} ms, max ${r.latencyMs.max} ms`,
    `acked events per second over the run: ${r.eventsPerSecond}`,
    `link faults injected: lost ${r.link.lost}, duplicated ${r.link.duplicated}, reordered ${r.link.reordered}; repeated acks ${r.repeatedAcks} (all byte-equal: ${r.repeatMismatches.length === 0 ? 'yes' : 'NO'}); stray acks ${r.strayAcks}`,
  ];
  if (r.repeatMismatches.length) lines.push(...r.repeatMismatches.map((m) => `  repeated ack differs from the first: ${m}`));
  if (r.unackedEvents.length) lines.push(`events never acked (first ${r.unackedEvents.length}): ${r.unackedEvents.join(', ')}`);
  if (r.balanceDifferences.length === 0) {
    lines.push(`balances: all ${r.residentsChecked} residents match what the acks credited`);
  } else {
    lines.push(`balances: ${r.balanceDifferences.length} of ${r.residentsChecked} residents DIFFER from what the acks credited:`);
    for (const d of r.balanceDifferences) {
      lines.push(
        `  ${d.name} (${d.residentId}): before ${d.before}, expected ${d.expected}, gateway says ${d.actual} (${d.actual - d.expected > 0 ? '+' : ''}${d.actual - d.expected})`,
      );
    }
  }
  lines.push(r.isOk ? 'RESULT: OK' : 'RESULT: FAILED');
  return lines.join('\n');
}

export function writeJsonReport(path: string, report: FinalReport): void {
  writeFileSync(path, `${JSON.stringify(report, null, 2)}\n`);
}
