import { DomainError, accountName, autoClose, residentAccount, systemAccount } from '../../../domain/src';
import type { Database } from '../database';
import { lockChainHeads, lockResidents } from '../ledger/append-entries';
import type { LedgerRepository } from '../ledger/ledger.repository';
import * as SQL from './activity.sql';
import { type ActivityRecord, toActivity } from './activity.repository';
import { type ActivityRow, type AttendanceRow, CheckInBook, activityRuleOf } from './check-in-book';

const { SELECT_ACTIVITY, LOCK_ACTIVITY } = SQL;

export interface AttendanceRecord {
  id: string;
  residentId: string;
  residentName: string;
  status: 'in' | 'out' | 'closed';
  checkedInAt: Date;
  checkedOutAt: Date | null;
  minutes: number;
  points: number;
  /** Of `points`, how many still wait for review. */
  pendingPoints: number;
  taps: number;
  sources: unknown[];
  updatedAt: Date;
}

export interface AttendanceSheet {
  activity: ActivityRecord;
  timezone: string;
  counts: { in: number; out: number; closed: number; total: number; pendingReview: number };
  attendance: AttendanceRecord[];
}

const SELECT_SHEET = `
SELECT ${SQL.ATTENDANCE_COLUMNS}, r.name AS resident_name,
  COALESCE((SELECT sum(p.amount) FROM ledger_entry p
             WHERE p.credit_resident_id = t.resident_id AND p.kind = 'pending' AND p.idempotency_key LIKE 'attendance:' || t.id || ':%'
               AND NOT EXISTS (SELECT 1 FROM ledger_entry c WHERE c.pending_entry_id = p.id)), 0)::integer AS pending_points
FROM attendance t JOIN resident r ON r.id = t.resident_id
WHERE t.activity_id = $1::uuid AND t.status <> 'stray'
ORDER BY t.first_tap_at, t.id`;

/** Open pending entries of attendances ($2: ids; $3: 'all' for all of the activity's instead). */
const OPEN_PENDING_OF = `
SELECT p.id::text AS id
FROM attendance t JOIN ledger_entry p ON p.credit_resident_id = t.resident_id
WHERE t.activity_id = $1::uuid
  AND ($3 = 'all' OR t.id = ANY (ARRAY(SELECT (jsonb_array_elements_text($2::jsonb))::uuid)))
  AND p.kind = 'pending' AND p.idempotency_key LIKE 'attendance:' || t.id || ':%'
  AND NOT EXISTS (SELECT 1 FROM ledger_entry c WHERE c.pending_entry_id = p.id)
ORDER BY p.id`;

/**
 * Ended activities (plus the check-out grace, hours mode) with attendance still
 * open: driven by the partial index of open attendance, so a late tap that opens
 * one after its activity was closed is closed on the next run too.
 */
const DUE_TO_CLOSE = `
SELECT a.id FROM activity a
WHERE a.id IN (SELECT t.activity_id FROM attendance t WHERE t.status = 'in')
  AND a.ends_at + make_interval(mins => CASE WHEN a.policy->>'kind' = 'hours' THEN a.check_out_grace_minutes ELSE 0 END) <= $1::timestamptz
ORDER BY a.ends_at LIMIT $2::integer`;

const OPEN_ATTENDANCE_OF = `SELECT ${SQL.ATTENDANCE_COLUMNS} FROM attendance t WHERE t.activity_id = $1::uuid AND t.status = 'in'`;

/**
 * Attendance: the live sheet, review of pending check-in points, manual
 * check-in/out and the auto-close. The tap path itself is in the ingest
 * repository (terminal-check-ins.ts).
 */
export class AttendanceRepository {
  constructor(
    private readonly db: Database,
    private readonly ledger: LedgerRepository,
  ) {}

  /** Who is in, who has left, the counts: the live page and the export read this. */
  async sheet(activityId: string): Promise<AttendanceSheet | null> {
    return this.db.transaction(async (query) => {
      const [row] = await query<ActivityRow>(SELECT_ACTIVITY, [activityId]);
      if (!row) return null;
      const [community] = await query<{ timezone: string }>(`SELECT timezone FROM community WHERE id = $1::uuid`, [row.community_id]);
      const rows = await query<AttendanceRow & { resident_name: string; pending_points: number }>(SELECT_SHEET, [activityId]);
      const attendance = rows.map((r): AttendanceRecord => ({
        id: r.id,
        residentId: r.resident_id,
        residentName: r.resident_name,
        status: r.status as AttendanceRecord['status'],
        checkedInAt: new Date(r.first_tap_at),
        checkedOutAt: r.checked_out_at === null ? null : new Date(r.checked_out_at),
        minutes: r.minutes,
        points: r.points,
        pendingPoints: r.pending_points,
        taps: r.taps,
        sources: r.sources,
        updatedAt: new Date(r.updated_at),
      }));
      const count = (s: AttendanceRecord['status']) => attendance.filter((a) => a.status === s).length;
      return {
        activity: toActivity(row),
        timezone: community?.timezone ?? 'Asia/Shanghai',
        counts: {
          in: count('in'),
          out: count('out'),
          closed: count('closed'),
          total: attendance.length,
          pendingReview: attendance.filter((a) => a.pendingPoints > 0).length,
        },
        attendance,
      };
    });
  }

  /** Cheap "has anything changed" for the live stream: the latest change and the row count. */
  async sheetVersion(activityId: string): Promise<string> {
    const [row] = await this.db.transaction((query) =>
      query<{ v: string }>(
        `SELECT coalesce(max(updated_at)::text, '') || '/' || count(*)::text AS v FROM attendance WHERE activity_id = $1::uuid`,
        [activityId],
      ),
    );
    return row?.v ?? '';
  }

  /** Settles (approves) or voids (rejects) the pending check-in points of some attendances, or all of the activity's. */
  async review(input: {
    activityId: string;
    attendanceIds: string[] | null;
    action: 'settle' | 'void';
    reason: string;
    actor: string;
    scope?: string | null;
  }) {
    const ids = await this.db.transaction((query) =>
      query<{ id: string }>(OPEN_PENDING_OF, [
        input.activityId,
        JSON.stringify(input.attendanceIds ?? []),
        input.attendanceIds ? 'some' : 'all',
      ]),
    );
    if (ids.length === 0) throw new DomainError('not-found', '没有待审核的签到积分 / no pending check-in points to review here');
    const result = await this.ledger.closePending({
      entryIds: ids.map((r) => r.id),
      action: input.action,
      reason: input.reason,
      actor: input.actor,
      scope: input.scope ?? null,
    });
    return { entries: result.entries.length, points: result.entries.reduce((sum, e) => sum + e.amount, 0) };
  }

  /**
   * A check-in or check-out recorded by an organiser for a resident without a
   * card: judged exactly like a tap at `at` (same window, debounce, capacity and
   * points), so it never gives more than a tap would.
   */
  async manualCheck(input: {
    activityId: string;
    residentId: string;
    action: 'check-in' | 'check-out';
    at: Date;
    reason: string;
    actor: string;
  }) {
    const result = await this.db.transaction(async (query) => {
      const [row] = await query<ActivityRow>(SELECT_ACTIVITY, [input.activityId]);
      if (!row) throw new DomainError('not-found', `no activity ${input.activityId}`);
      if (row.is_cancelled) throw new DomainError('conflict', 'the activity was cancelled');
      const activity = activityRuleOf(row);
      // The ledger's lock order: chain head, then the resident, then the activity (capacity).
      await lockChainHeads(query, [activity.communityId]);
      const residents = await lockResidents(query, [input.residentId]);
      const resident = residents.get(input.residentId);
      if (!resident) throw new DomainError('not-found', `no resident ${input.residentId}`);
      if (resident.communityId !== activity.communityId)
        throw new DomainError('wrong-community', 'the resident belongs to another community');
      const book = await CheckInBook.open(query, [input.residentId], [activity]);
      const existing = book.attendanceOf(activity.id, input.residentId);
      const isIn = existing !== undefined && existing.status !== 'stray';
      if (input.action === 'check-in' && isIn) throw new DomainError('conflict', '该居民已签到 / the resident has already checked in');
      if (input.action === 'check-out' && !isIn) throw new DomainError('conflict', '该居民尚未签到 / the resident has not checked in');
      if (input.action === 'check-out' && activity.policy.kind !== 'hours') {
        throw new DomainError('conflict', '按次计分的活动无需签退 / attendance-mode activities have no check-out');
      }
      const booked = book.tap({
        residentId: input.residentId,
        siteId: activity.siteId,
        at: input.at,
        activities: [activity],
        source: { actor: input.actor, reason: input.reason },
      });
      if (booked.decision.kind === 'refused') {
        const why = {
          'no-open-activity': '不在签到/签退时间内 / outside the check-in (or check-out) times',
          'capacity-reached': '人数已满 / the activity is full',
          'already-checked-in': '与已有记录重复 / a repeat of what is recorded',
        }[booked.decision.reason];
        throw new DomainError('conflict', `${why} (${booked.decision.reason})`, { reason: booked.decision.reason });
      }
      const posted = await this.ledger.postIn(
        query,
        booked.postings.map((p) => ({
          communityId: activity.communityId,
          kind: p.kind,
          debitAccount: accountName(systemAccount('issuance', activity.communityId)),
          creditAccount: accountName(residentAccount(input.residentId)),
          amount: p.amount,
          source: 'activity' as const,
          pendingEntryId: null,
          reversesEntryId: null,
          idempotencyKey: p.idempotencyKey,
          actor: input.actor,
          reason: `${p.reason ?? ''}; ${input.reason}`,
        })),
      );
      await book.write(query);
      const attendance = booked.decision.attendance;
      return {
        attendanceId: attendance.id,
        status: attendance.status,
        minutes: attendance.minutes,
        points: attendance.points,
        pointsAdded: booked.decision.pointsAdded,
        isPending: booked.isPending,
        entries: posted.entries.length,
      };
    });
    await this.db.makeDurable();
    return result;
  }

  /**
   * The auto-close: every attendance still `in` at an activity that has ended
   * (plus its check-out grace) is closed under the activity's policy, its points
   * posted; then the activity is marked closed. One transaction per activity.
   */
  async closeEnded(now: Date, limit = 20): Promise<{ activities: number; closed: number; points: number }> {
    const due = await this.db.transaction((query) => query<{ id: string }>(DUE_TO_CLOSE, [now.toISOString(), String(limit)]));
    let closed = 0;
    let points = 0;
    for (const { id } of due) {
      const done = await this.db.transaction(async (query) => {
        const [row] = await query<ActivityRow>(SELECT_ACTIVITY, [id]);
        if (!row) return { closed: 0, points: 0 };
        const activity = activityRuleOf(row);
        const open = await query<AttendanceRow>(OPEN_ATTENDANCE_OF, [id]);
        await lockChainHeads(query, [activity.communityId]);
        await lockResidents(
          query,
          open.map((o) => o.resident_id),
        );
        await query(LOCK_ACTIVITY, [id]);
        const book = await CheckInBook.open(
          query,
          open.map((o) => o.resident_id),
          [activity],
        );
        let changed = 0;
        const postings = open.flatMap((o) => {
          const state = book.attendanceOf(id, o.resident_id);
          const change = state ? autoClose(activity, state) : null;
          if (!change) return [];
          changed += 1;
          const source = { at: activity.endsAt.toISOString(), actor: 'system:auto-close', policy: activity.autoClose };
          return book.apply(change, source).map((p) => ({ p, residentId: o.resident_id }));
        });
        await this.ledger.postIn(
          query,
          postings.map(({ p, residentId }) => ({
            communityId: activity.communityId,
            kind: p.kind,
            debitAccount: accountName(systemAccount('issuance', activity.communityId)),
            creditAccount: accountName(residentAccount(residentId)),
            amount: p.amount,
            source: 'activity' as const,
            pendingEntryId: null,
            reversesEntryId: null,
            idempotencyKey: p.idempotencyKey,
            actor: 'system:auto-close',
            reason: `${p.reason ?? ''}; 活动结束自动签退 / closed at the end (${activity.autoClose})`,
          })),
        );
        await book.write(query);
        await query(`UPDATE activity SET closed_at = $2::timestamptz WHERE id = $1::uuid`, [id, now.toISOString()]);
        return { closed: changed, points: postings.reduce((sum, x) => sum + x.p.amount, 0) };
      });
      closed += done.closed;
      points += done.points;
    }
    if (due.length > 0) await this.db.makeDurable();
    return { activities: due.length, closed, points };
  }

  /** A resident's volunteer hours: presence counted at hours-mode activities. */
  async volunteerHours(residentId: string) {
    const [resident] = await this.db.transaction((query) =>
      query<{ community_id: string }>(`SELECT community_id FROM resident WHERE id = $1::uuid`, [residentId]),
    );
    if (!resident) return null;
    const rows = await this.db.transaction((query) =>
      query<{ activity_id: string; title: string; starts_at: Date | string; minutes: number; points: number; status: string }>(
        `SELECT t.activity_id, a.title, a.starts_at, t.minutes, t.points, t.status FROM attendance t JOIN activity a ON a.id = t.activity_id
          WHERE t.resident_id = $1::uuid AND a.policy->>'kind' = 'hours' AND t.status <> 'stray' ORDER BY a.starts_at`,
        [residentId],
      ),
    );
    const activities = rows.map((r) => ({
      activityId: r.activity_id,
      title: r.title,
      startsAt: new Date(r.starts_at),
      minutes: r.minutes,
      points: r.points,
      status: r.status,
    }));
    return { residentId, communityId: resident.community_id, totalMinutes: activities.reduce((sum, a) => sum + a.minutes, 0), activities };
  }
}
