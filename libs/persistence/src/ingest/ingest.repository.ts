import type { AckReason, DeviceEvent } from '../../../protocol/src';
import {
  type CardHolder,
  type DepositPointsPerUnit,
  type DepositTally,
  type PointsRules,
  DEFAULT_FUTURE_LIMIT_MS,
  DEFAULT_LATENESS_MS,
  type DeviceKind,
  type EventOutcome,
  type EventTime,
  type ResidentPoints,
  type SealedLedgerEntry,
  accountName,
  buildAck,
  judgeEvent,
  judgeEventTime,
  rejectedOutcome,
  residentAccount,
  sealEntry,
  serializeAck,
  systemAccount,
} from '../../../domain/src';
import type { Database, SqlQuery } from '../database';
import { entryRow, lockChainHeads, residentsOf, writeBackRows } from '../ledger/append-entries';
import { type RulesVersion, RunningTallies, readRules, rulesAt } from './deposit-rules';
import { RegistryCache } from './registry-cache';
import * as SQL from './ingest.sql';
import { TerminalCheckIns } from '../activities/terminal-check-ins';

interface HolderRow {
  uid: string;
  card_status: 'active' | 'lost' | 'replaced' | 'unbound';
  resident_id: string;
  community_id: string;
  name: string;
  balance: number;
  pending_points: number;
}

/** An event that passed the protocol schema. */
export interface ValidIngestItem {
  kind: 'valid';
  deviceId: string;
  event: DeviceEvent;
  receivedAt: Date;
  /** The bin reported itself full (an open fill-full alert): the ack says so too. */
  isBinFull?: boolean;
}

/**
 * An event that failed the schema but whose eventId could be read: it is
 * answered with the most specific reason (invalid-count, no-items…, else invalid-event).
 */
export interface InvalidIngestItem {
  kind: 'invalid';
  deviceId: string;
  eventId: string;
  reason: AckReason;
  payload: Record<string, unknown>;
  problem: string;
  receivedAt: Date;
}

export type IngestItem = ValidIngestItem | InvalidIngestItem;

export interface IngestAck {
  deviceId: string;
  eventId: string;
  /** The ack bytes to publish; equal to the first answer for a repeat. */
  ack: string;
  isRepeat: boolean;
}

export interface IngestOptions {
  latenessMs?: number;
  /** occurredAt further ahead than this is refused `clock-ahead` (DEFAULT_FUTURE_LIMIT_MS). */
  futureLimitMs?: number;
  /** How long a device's registry row is reused across batches. */
  deviceCacheMs?: number;
  now?: () => number;
}

interface DeviceRow {
  id: string;
  kind: DeviceKind;
  community_id: string;
  is_active: boolean;
  deposit_points_per_unit: Partial<DepositPointsPerUnit>;
  timezone: string;
}

const keyOf = (deviceId: string, eventId: string) => `${deviceId}\u0000${eventId}`;

/**
 * Commits a batch of device events in one transaction and returns the ack for
 * each, in input order. Items for devices the registry does not know are left
 * out of the result: the caller dead-letters them.
 */
export class IngestRepository {
  private readonly latenessMs: number;
  private readonly futureLimitMs: number;
  private readonly deviceCacheMs: number;
  private readonly now: () => number;
  /** Registry rows of recently seen devices, and their communities' points rules versions. */
  private readonly devices: RegistryCache<DeviceRow>;
  private readonly rules: RegistryCache<RulesVersion[]>;
  /** Terminals' sites and the sites' activities, for taps (libs/persistence/src/activities). */
  private readonly checkIns: TerminalCheckIns;

  constructor(
    private readonly db: Database,
    options: IngestOptions = {},
  ) {
    this.latenessMs = options.latenessMs ?? DEFAULT_LATENESS_MS;
    this.futureLimitMs = options.futureLimitMs ?? DEFAULT_FUTURE_LIMIT_MS;
    this.deviceCacheMs = options.deviceCacheMs ?? 2000;
    this.now = options.now ?? Date.now;
    this.devices = new RegistryCache(this.deviceCacheMs);
    // A rules version takes effect at its effective_from, which the API keeps in the future (or now).
    this.rules = new RegistryCache(this.deviceCacheMs);
    this.checkIns = new TerminalCheckIns(this.deviceCacheMs, this.latenessMs);
  }

  /** A site's activities, or a terminal's site, changed through this process's API: read them again from the next batch. */
  forgetSiteActivities(siteId: string): Promise<void> {
    this.checkIns.forgetSite(siteId);
    return Promise.resolve();
  }

  forgetTerminalSite(deviceId: string): Promise<void> {
    this.checkIns.forgetTerminal(deviceId);
    return Promise.resolve();
  }

  /** A community's points rules changed through this process's API: use them from the next batch. */
  forgetCommunityRules(communityId: string): Promise<void> {
    this.rules.forget(communityId);
    return Promise.resolve();
  }

  /** Async like every repository method: it may run on the database thread. */
  forgetDevice(deviceId: string): Promise<void> {
    this.devices.forget(deviceId);
    return Promise.resolve();
  }

  private loadDevices(query: SqlQuery, deviceIds: string[]): Promise<Map<string, DeviceRow>> {
    return this.devices.getMany(deviceIds, this.now(), async (missing) => {
      const rows = await query<DeviceRow>(SQL.SELECT_DEVICES, [JSON.stringify(missing)]);
      return new Map(rows.map((row) => [row.id, row]));
    });
  }

  async commitBatch(items: readonly IngestItem[]): Promise<IngestAck[]> {
    if (items.length === 0) return [];
    const acks = await this.db.transaction((query) => this.inTransaction(query, items));
    await this.db.makeDurable();
    return acks;
  }

  private async inTransaction(query: SqlQuery, items: readonly IngestItem[]): Promise<IngestAck[]> {
    const q = <T>(sql: string, rows: unknown) => query<T>(sql, [JSON.stringify(rows)]);

    const deviceIds = [...new Set(items.map((i) => i.deviceId))];
    const devices = await this.loadDevices(query, deviceIds);
    const known = items.filter((i) => devices.has(i.deviceId));

    // First occurrence of each pair within the batch; later copies share its ack.
    const firstByKey = new Map<string, IngestItem>();
    for (const item of known) {
      const k = keyOf(item.deviceId, eventIdOf(item));
      if (!firstByKey.has(k)) firstByKey.set(k, item);
    }
    const unique = [...firstByKey.values()];

    const ackByKey = new Map<string, { ack: string; isRepeat: boolean }>();
    if (unique.length > 0) {
      const stored = await q<{ device_id: string; event_id: string; ack: string }>(
        SQL.SELECT_STORED_ACKS,
        unique.map((i) => ({ device_id: i.deviceId, event_id: eventIdOf(i) })),
      );
      for (const s of stored) ackByKey.set(keyOf(s.device_id, s.event_id), { ack: s.ack, isRepeat: true });
    }

    const fresh = unique.filter((i) => !ackByKey.has(keyOf(i.deviceId, eventIdOf(i))));
    const freshValid = fresh.filter((i) => i.kind === 'valid');
    // Locks in the ledger's order (libs/persistence/src/ledger): chain heads, then residents.
    const heads = await lockChainHeads(
      query,
      freshValid.map((i) => devices.get(i.deviceId)!.community_id),
    );
    const uids = [...new Set(freshValid.flatMap((i) => ('cardUid' in i.event ? [i.event.cardUid] : [])))];
    const holders = new Map<string, CardHolder>();
    const points = new Map<string, ResidentPoints>();
    if (uids.length > 0) {
      const rows = await q<HolderRow>(SQL.LOCK_CARD_HOLDERS, uids);
      for (const r of rows) {
        // An unbound card is nobody's: its deposits are held like an unknown card's.
        if (r.card_status === 'unbound') continue;
        holders.set(r.uid, {
          residentId: r.resident_id,
          communityId: r.community_id,
          balance: r.balance,
          name: r.name,
          isBlocked: r.card_status !== 'active',
        });
        points.set(r.resident_id, { balance: r.balance, pendingPoints: r.pending_points });
      }
    }

    // Deposits are judged by the rules version in force at their time and the
    // holder's tally of that local day and month (caps), both loaded once.
    const nowMs = this.now();
    const rulesByCommunity = await this.rules.getMany(
      freshValid.map((i) => devices.get(i.deviceId)!.community_id),
      nowMs,
      (missing) => readRules(query, missing),
    );
    const times = new Map(fresh.map((item) => [item, this.eventTime(item)]));
    const periods = new Map<IngestItem, { day: string; month: string }>();
    const tallyKeys: { residentId: string; day: string; month: string }[] = [];
    const holderOf = (item: IngestItem) => (item.kind === 'valid' && 'cardUid' in item.event ? holders.get(item.event.cardUid) : undefined);
    for (const item of freshValid) {
      const time = times.get(item);
      const holder = holderOf(item);
      if (item.event.type !== 'deposit' || !time || time.kind !== 'on-time' || !holder) continue;
      const period = RunningTallies.periodsOf(time.occurredAt, devices.get(item.deviceId)!.timezone);
      periods.set(item, period);
      tallyKeys.push({ residentId: holder.residentId, ...period });
    }
    const tallies = new RunningTallies();
    await tallies.load(query, tallyKeys);
    // Terminal taps: the sites' open activities (cached) and the residents' attendances (read once, locked above).
    const taps = await this.checkIns.openBatch(
      query,
      freshValid.flatMap((item) => {
        const holder = holderOf(item);
        const device = devices.get(item.deviceId)!;
        return item.event.type === 'tap' && device.kind === 'terminal' && holder
          ? [{ deviceId: item.deviceId, residentId: holder.residentId }]
          : [];
      }),
      nowMs,
    );

    const createdAt = new Date(nowMs);
    const judged = fresh.map((item) => {
      const device = devices.get(item.deviceId)!;
      const time = times.get(item) ?? null;
      const { version, rules } = rulesAt(
        rulesByCommunity.get(device.community_id) ?? [],
        device.deposit_points_per_unit,
        time?.occurredAt ?? createdAt,
      );
      const period = periods.get(item);
      const holder = holderOf(item);
      const tally = period && holder ? tallies.get(holder.residentId, period.day, period.month) : undefined;
      const checkIn =
        item.kind === 'valid' && time?.kind === 'on-time' ? taps.checkInFor(item.deviceId, item.event, time.occurredAt) : undefined;
      const outcome = this.judge(item, time, device, holder, points, rules, tally, checkIn);
      if (outcome.deposit && outcome.residentId && period && (outcome.result === 'credited' || outcome.reason === 'needs-review')) {
        tallies.add(outcome.residentId, period.day, period.month, outcome.deposit.points, outcome.deposit.batteries);
      }
      const ack = serializeAck(buildAck(eventIdOf(item), outcome));
      ackByKey.set(keyOf(item.deviceId, eventIdOf(item)), { ack, isRepeat: false });
      // Sealed now, in event order, so each credit's balance is the one its ack shows.
      const entries: SealedLedgerEntry[] = [];
      const pending = outcome.pendingPoints ?? 0;
      if (outcome.postings && outcome.residentId) {
        // Check-in points: one entry per attendance whose points grew (libs/domain/src/activities).
        for (const p of outcome.postings) {
          entries.push(
            sealEntry(
              {
                communityId: device.community_id,
                kind: p.kind,
                debitAccount: accountName(systemAccount('issuance', device.community_id)),
                creditAccount: accountName(residentAccount(outcome.residentId)),
                amount: p.amount,
                source: 'activity',
                pendingEntryId: null,
                reversesEntryId: null,
                idempotencyKey: p.idempotencyKey,
                actor: `device:${item.deviceId}`,
                reason: p.reason,
                createdAt,
              },
              heads,
              points,
            ),
          );
        }
        const balance = points.get(outcome.residentId)?.balance ?? null;
        if (entries.length > 0 && balance !== outcome.balanceAfter) {
          throw new Error(`ledger balance ${balance} differs from the judged ${outcome.balanceAfter}`);
        }
      } else if ((outcome.creditPoints > 0 || pending > 0) && outcome.residentId) {
        const entry = sealEntry(
          {
            communityId: device.community_id,
            kind: outcome.creditPoints > 0 ? 'posted' : 'pending',
            debitAccount: accountName(systemAccount('issuance', device.community_id)),
            creditAccount: accountName(residentAccount(outcome.residentId)),
            amount: outcome.creditPoints > 0 ? outcome.creditPoints : pending,
            source: 'device_event',
            pendingEntryId: null,
            reversesEntryId: null,
            idempotencyKey: `device-event:${item.deviceId}:${eventIdOf(item)}`,
            actor: `device:${item.deviceId}`,
            reason: outcome.review ?? null,
            createdAt,
          },
          heads,
          points,
        );
        if (entry.creditBalanceAfter !== outcome.balanceAfter) {
          throw new Error(`ledger balance ${entry.creditBalanceAfter} differs from the judged ${outcome.balanceAfter}`);
        }
        entries.push(entry);
      }
      const ruleVersion = outcome.deposit ? version : null;
      const flags = outcome.deposit?.isWeightMissing ? ['weight-missing'] : null;
      return { item, time, outcome, ack, entries, ruleVersion, flags };
    });

    if (judged.length > 0) {
      const events = judged.map(({ item, time, outcome, ack, ruleVersion, flags }) => ({
        ...eventRow(item, time),
        ...outcomeColumns(outcome),
        ack,
        rule_version: ruleVersion,
        flags,
      }));
      const entries = judged.flatMap(({ item, entries: sealed }) =>
        sealed.map((entry) => ({ ...entryRow(entry), device_id: item.deviceId, event_id: eventIdOf(item) })),
      );
      const { residents, heads: headRows } = writeBackRows(points, residentsOf(judged.flatMap((j) => j.entries)), heads);
      const [written] = await query<{ stored: number; posted: number; balanced: number }>(SQL.WRITE_BATCH, [
        JSON.stringify(events),
        JSON.stringify(entries),
        JSON.stringify(residents),
        JSON.stringify(entries.length > 0 ? headRows : []),
        JSON.stringify(tallies.rows()),
      ]);
      if (!written || written.stored !== judged.length) {
        // Another replica stored one of these events after we looked: our
        // balances may count it twice. Roll back; the retry sees its stored ack.
        throw new ConcurrentEventError(judged.length - (written?.stored ?? 0));
      }
      await taps.write(query);
    }

    const seen = new Set<string>();
    return known.map((item) => {
      const k = keyOf(item.deviceId, eventIdOf(item));
      const answer = ackByKey.get(k);
      if (!answer) throw new Error(`no ack for ${item.deviceId}/${eventIdOf(item)}: the stored event vanished`);
      const isRepeat = answer.isRepeat || seen.has(k);
      seen.add(k);
      return { deviceId: item.deviceId, eventId: eventIdOf(item), ack: answer.ack, isRepeat };
    });
  }

  /** The time an event is judged by; null for an invalid event, which has none. */
  private eventTime(item: IngestItem): EventTime | null {
    return item.kind === 'valid'
      ? judgeEventTime(new Date(item.event.occurredAt), item.receivedAt, this.latenessMs, this.futureLimitMs)
      : null;
  }

  private judge(
    item: IngestItem,
    time: EventTime | null,
    device: DeviceRow,
    holder: CardHolder | undefined,
    points: Map<string, ResidentPoints>,
    rules: PointsRules,
    tally: DepositTally | undefined,
    checkIn: ((holder: CardHolder) => EventOutcome) | undefined,
  ): EventOutcome {
    if (item.kind === 'invalid' || time === null) {
      return device.is_active
        ? rejectedOutcome(item.kind === 'invalid' ? item.reason : 'invalid-event')
        : rejectedOutcome('device-inactive');
    }
    const current = holder ? { ...holder, balance: points.get(holder.residentId)?.balance ?? holder.balance } : null;
    return judgeEvent({
      event: item.event,
      device: { kind: device.kind, communityId: device.community_id, isActive: device.is_active },
      holder: current,
      rules,
      ...(tally ? { tally } : {}),
      ...(item.isBinFull ? { isBinFull: true } : {}),
      ...(checkIn ? { checkIn } : {}),
      time,
    });
  }
}

/** The batch met an event another replica committed meanwhile; retrying is safe. */
export class ConcurrentEventError extends Error {
  constructor(readonly count: number) {
    super(`${count} event(s) of this batch were committed concurrently by another gateway; retry the batch`);
    this.name = 'ConcurrentEventError';
  }
}

/** The stored columns of an event, as the device sent it and as judged in time. */
function eventRow(item: IngestItem, time: EventTime | null) {
  if (item.kind === 'invalid') {
    const type = typeof item.payload['type'] === 'string' ? String(item.payload['type']).slice(0, 32) : 'invalid';
    return {
      device_id: item.deviceId,
      event_id: item.eventId,
      seq: null,
      type,
      card_uid: null,
      payload: item.payload,
      occurred_at: null,
      received_at: item.receivedAt.toISOString(),
      is_clock_ahead: false,
    };
  }
  if (time === null) throw new Error(`event ${item.event.eventId} was not judged in time`);
  return {
    device_id: item.deviceId,
    event_id: item.event.eventId,
    seq: item.event.seq,
    type: item.event.type,
    card_uid: 'cardUid' in item.event ? item.event.cardUid : null,
    payload: item.event,
    occurred_at: time.occurredAt.toISOString(),
    received_at: item.receivedAt.toISOString(),
    is_clock_ahead: time.kind === 'clock-ahead' || (time.kind === 'on-time' && time.isClockAhead),
  };
}

function outcomeColumns(outcome: EventOutcome) {
  return { result: outcome.result, reason: outcome.reason ?? null, points: outcome.points, resident_id: outcome.residentId };
}

function eventIdOf(item: IngestItem): string {
  return item.kind === 'valid' ? item.event.eventId : item.eventId;
}
