/**
 * The bin's life as pure functions (issue #4): fill alerts with hysteresis, fault
 * diffing and the collection report. No I/O: the BinWatcher and the controller
 * feed them and write what they return.
 */

export const FILL_ALERT_KINDS = ['fill-warn', 'fill-full'] as const;
export type FillAlertKind = (typeof FILL_ALERT_KINDS)[number];

/** An open alert resolves only once the fill is this many points below its threshold. */
export const FILL_HYSTERESIS_POINTS = 10;

export interface BinThresholds {
  fillWarnPercent: number;
  fillFullPercent: number;
}

export interface BinSettingsValues extends BinThresholds {
  weightTolerancePercent: number;
}

export const DEFAULT_BIN_SETTINGS: BinSettingsValues = { fillWarnPercent: 80, fillFullPercent: 95, weightTolerancePercent: 10 };

export interface FillAlertChanges {
  open: FillAlertKind[];
  resolve: FillAlertKind[];
}

function thresholdOf(kind: FillAlertKind, t: BinThresholds): number {
  return kind === 'fill-warn' ? t.fillWarnPercent : t.fillFullPercent;
}

/**
 * What a fill reading does to the open alerts: a kind opens when the fill reaches
 * its threshold and none is open; an open one resolves only when the fill drops
 * below threshold - 10, so a value hovering at a threshold does not flap.
 */
export function fillAlertChanges(fillPercent: number, open: ReadonlySet<FillAlertKind>, thresholds: BinThresholds): FillAlertChanges {
  const changes: FillAlertChanges = { open: [], resolve: [] };
  for (const kind of FILL_ALERT_KINDS) {
    const threshold = thresholdOf(kind, thresholds);
    if (!open.has(kind) && fillPercent >= threshold) changes.open.push(kind);
    else if (open.has(kind) && fillPercent < threshold - FILL_HYSTERESIS_POINTS) changes.resolve.push(kind);
  }
  return changes;
}

export interface FaultChanges {
  appeared: string[];
  cleared: string[];
}

/** Codes newly reported open a fault; codes no longer reported clear it. Duplicates and order do not matter. */
export function diffFaults(active: ReadonlySet<string>, reported: readonly string[]): FaultChanges {
  const now = new Set(reported);
  return {
    appeared: [...now].filter((c) => !active.has(c)).sort(),
    cleared: [...active].filter((c) => !now.has(c)).sort(),
  };
}

export interface CollectionInput {
  id: string;
  collectedAt: Date;
  weightGrams: number;
  source: 'api' | 'event';
  actor: string;
  note: string | null;
}

export interface DepositWeight {
  occurredAt: Date;
  /** null when the scale failed: the deposit is counted but weighs nothing here. */
  weightGrams: number | null;
}

export interface CollectionReportLine {
  collectionId: string;
  collectedAt: string;
  source: 'api' | 'event';
  actor: string;
  note: string | null;
  /** The previous collection's time; null for the first one (everything since the bin started). */
  since: string | null;
  weightCollectedGrams: number;
  weightCreditedGrams: number;
  deposits: number;
  depositsWithoutWeight: number;
  /** collected - credited: negative when less came out than residents were credited for. */
  gapGrams: number;
  /** gap / credited in percent, one decimal; null when nothing was credited. */
  gapPercent: number | null;
  /** The gap is beyond the bin's tolerance: fraud or a drifting scale. */
  flagged: boolean;
}

const round = (value: number, digits: number) => Math.round(value * 10 ** digits) / 10 ** digits;

/**
 * For each collection (oldest first), the weight collected against the weight of
 * the deposits credited or pending since the previous collection (occurredAt in
 * (previous, this]). Flags a gap beyond the tolerance; with nothing credited, any
 * weight collected is a gap beyond it.
 */
export function collectionReport(
  collections: readonly CollectionInput[],
  deposits: readonly DepositWeight[],
  tolerancePercent: number,
): CollectionReportLine[] {
  const sorted = [...collections].sort((a, b) => a.collectedAt.getTime() - b.collectedAt.getTime() || Number(a.id) - Number(b.id));
  const byTime = [...deposits].sort((a, b) => a.occurredAt.getTime() - b.occurredAt.getTime());
  const lines: CollectionReportLine[] = [];
  let next = 0;
  let previous: Date | null = null;
  for (const c of sorted) {
    let credited = 0;
    let count = 0;
    let withoutWeight = 0;
    while (next < byTime.length && byTime[next]!.occurredAt.getTime() <= c.collectedAt.getTime()) {
      const d = byTime[next++]!;
      count++;
      if (d.weightGrams === null) withoutWeight++;
      else credited += d.weightGrams;
    }
    const gap = c.weightGrams - credited;
    const gapPercent = credited > 0 ? round((gap / credited) * 100, 1) : null;
    lines.push({
      collectionId: c.id,
      collectedAt: c.collectedAt.toISOString(),
      source: c.source,
      actor: c.actor,
      note: c.note,
      since: previous ? previous.toISOString() : null,
      weightCollectedGrams: round(c.weightGrams, 1),
      weightCreditedGrams: round(credited, 1),
      deposits: count,
      depositsWithoutWeight: withoutWeight,
      gapGrams: round(gap, 1),
      gapPercent,
      flagged: gapPercent === null ? c.weightGrams > 0 : Math.abs(gap / credited) * 100 > tolerancePercent,
    });
    previous = c.collectedAt;
  }
  return lines;
}
