import type { DeviceEvent } from '../../../protocol/src';
import { type ActivityRule, type CardHolder, type EventOutcome, checkInOutcome } from '../../../domain/src';
import type { SqlQuery } from '../database';
import { RegistryCache } from '../ingest/registry-cache';
import * as SQL from './activity.sql';
import { type ActivityRow, CheckInBook, activityRuleOf } from './check-in-book';

const DAY_MS = 24 * 60 * 60_000;

/**
 * The ingest path's view of activities: each terminal's site and each site's
 * activities, cached like the device registry (a change through this process's
 * API is seen at once, another replica's within the TTL), and per batch a
 * CheckInBook of the tapping residents' attendances.
 */
export class TerminalCheckIns {
  private readonly terminals: RegistryCache<{ siteId: string | null }>;
  private readonly sites: RegistryCache<ActivityRule[]>;

  constructor(
    ttlMs: number,
    private readonly latenessMs: number,
  ) {
    this.terminals = new RegistryCache(ttlMs);
    this.sites = new RegistryCache(ttlMs);
  }

  forgetSite(siteId: string): void {
    this.sites.forget(siteId);
  }

  forgetTerminal(deviceId: string): void {
    this.terminals.forget(deviceId);
  }

  /** Loads what the batch's terminal taps need: sites, activities, attendances (the residents are locked already). */
  async openBatch(query: SqlQuery, taps: readonly { deviceId: string; residentId: string }[], nowMs: number): Promise<CheckInBatch> {
    if (taps.length === 0) return CheckInBatch.EMPTY;
    const terminals = await this.terminals.getMany(
      taps.map((t) => t.deviceId),
      nowMs,
      async (missing) => {
        const found = new Map<string, { siteId: string | null }>(missing.map((id) => [id, { siteId: null }]));
        for (const r of await query<{ device_id: string; site_id: string }>(SQL.SELECT_TERMINAL_SITES, [JSON.stringify(missing)])) {
          found.set(r.device_id, { siteId: r.site_id });
        }
        return found;
      },
    );
    const siteIds = [...new Set([...terminals.values()].flatMap((t) => (t.siteId ? [t.siteId] : [])))];
    const sites = await this.sites.getMany(siteIds, nowMs, async (missing) => {
      const found = new Map<string, ActivityRule[]>(missing.map((id) => [id, []]));
      // Every activity a tap received now could concern: late taps up to the lateness allowed (plus a day for check-out graces).
      const rows = await query<ActivityRow>(SQL.SELECT_SITE_ACTIVITIES, [
        JSON.stringify(missing),
        new Date(nowMs - this.latenessMs - DAY_MS).toISOString(),
        new Date(nowMs + DAY_MS).toISOString(),
      ]);
      for (const r of rows) found.get(r.site_id)!.push(activityRuleOf(r));
      return found;
    });
    const residents = taps.filter((t) => terminals.get(t.deviceId)?.siteId).map((t) => t.residentId);
    const book = await CheckInBook.open(query, residents, [...sites.values()].flat());
    return new CheckInBatch(book, terminals, sites);
  }
}

/** One batch's check-ins: judged in event order against one book, written once. */
export class CheckInBatch {
  static readonly EMPTY = new CheckInBatch(null, new Map(), new Map());

  constructor(
    private readonly book: CheckInBook | null,
    private readonly terminals: ReadonlyMap<string, { siteId: string | null }>,
    private readonly sites: ReadonlyMap<string, ActivityRule[]>,
  ) {}

  /** The check-in judgement for a terminal's tap, or undefined when its terminal has no site (no open activity). */
  checkInFor(deviceId: string, event: DeviceEvent, at: Date): ((holder: CardHolder) => EventOutcome) | undefined {
    const siteId = this.terminals.get(deviceId)?.siteId;
    const book = this.book;
    if (!book || !siteId || event.type !== 'tap') return undefined;
    const activities = this.sites.get(siteId) ?? [];
    return (holder) => {
      const booked = book.tap({ residentId: holder.residentId, siteId, at, activities, source: { deviceId, eventId: event.eventId } });
      return checkInOutcome(booked.decision, booked.postings, holder);
    };
  }

  write(query: SqlQuery): Promise<void> {
    return this.book ? this.book.write(query) : Promise.resolve();
  }
}
