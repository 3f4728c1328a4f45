import { randomUUID } from 'node:crypto';
import {
  type AutoClosePolicy,
  DomainError,
  type PointsPolicy,
  type WeeklyRule,
  autoClose,
  residentAccount,
  accountName,
  systemAccount,
  weeklyOccurrences,
} from '../../../domain/src';
import type { Database, SqlQuery } from '../database';
import type { Prisma } from '../generated/prisma/client';
import { lockChainHeads, lockResidents } from '../ledger/append-entries';
import type { LedgerRepository } from '../ledger/ledger.repository';
import * as SQL from './activity.sql';
import { type ActivityRow, type AttendanceRow, CheckInBook, activityRuleOf } from './check-in-book';

export interface ActivitySettings {
  siteId: string;
  categoryCode: string;
  title: string;
  opensBeforeMinutes: number;
  closesAfterMinutes: number;
  checkOutGraceMinutes: number;
  capacity: number | null;
  policy: PointsPolicy;
  requiresReview: boolean;
  autoClose: AutoClosePolicy;
  debounceSeconds: number;
}

export interface ActivityRecord extends ActivitySettings {
  id: string;
  communityId: string;
  recurrenceId: string | null;
  startsAt: Date;
  endsAt: Date;
  isCancelled: boolean;
  closedAt: Date | null;
  createdAt: Date;
}

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

const toActivity = (r: ActivityRow): ActivityRecord => {
  const rule = activityRuleOf(r);
  return {
    id: r.id,
    communityId: r.community_id,
    siteId: r.site_id,
    categoryCode: r.category_code,
    recurrenceId: r.recurrence_id,
    title: r.title,
    startsAt: rule.startsAt,
    endsAt: rule.endsAt,
    opensBeforeMinutes: r.opens_before_minutes,
    closesAfterMinutes: r.closes_after_minutes,
    checkOutGraceMinutes: r.check_out_grace_minutes,
    capacity: r.capacity,
    policy: rule.policy,
    requiresReview: r.requires_review,
    autoClose: rule.autoClose,
    debounceSeconds: r.debounce_seconds,
    isCancelled: r.is_cancelled,
    closedAt: r.closed_at === null ? null : new Date(r.closed_at),
    createdAt: new Date(r.created_at),
  };
};

const INSERT_ACTIVITIES = `
INSERT INTO activity (id, community_id, site_id, category_code, recurrence_id, title, starts_at, ends_at, opens_before_minutes,
                      closes_after_minutes, check_out_grace_minutes, capacity, policy, requires_review, auto_close, debounce_seconds)
SELECT id, community_id, site_id, category_code, recurrence_id, title, starts_at, ends_at, opens_before_minutes,
       closes_after_minutes, check_out_grace_minutes, capacity, policy, requires_review, auto_close, debounce_seconds
FROM jsonb_to_recordset($1::jsonb) AS v(id uuid, community_id uuid, site_id uuid, category_code text, recurrence_id uuid, title text,
  starts_at timestamptz, ends_at timestamptz, opens_before_minutes integer, closes_after_minutes integer, check_out_grace_minutes integer,
  capacity integer, policy jsonb, requires_review boolean, auto_close text, debounce_seconds integer)
RETURNING *`;

const SELECT_ACTIVITY = `SELECT ${SQL.ACTIVITY_COLUMNS} FROM activity a WHERE a.id = $1::uuid`;
const LOCK_ACTIVITY = `${SELECT_ACTIVITY} FOR UPDATE`;

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
 * Activities (one row per occurrence), weekly recurrences, attendance, manual
 * check-in/out, review of pending check-in points and the auto-close. The tap
 * path itself is in the ingest repository (terminal-check-ins.ts).
 */
export class ActivityRepository {
  constructor(
    private readonly db: Database,
    private readonly ledger: LedgerRepository,
    private readonly now: () => number = Date.now,
  ) {}

  private get prisma() {
    return this.db.prisma;
  }

  private async assertSettings(communityId: string, s: Pick<ActivitySettings, 'siteId' | 'categoryCode'>): Promise<void> {
    const site = await this.prisma.activitySite.findUnique({ where: { id: s.siteId } });
    if (!site || site.communityId !== communityId) throw new DomainError('not-found', `no site ${s.siteId} in this community`);
    const category = await this.prisma.activityCategory.findUnique({ where: { communityId_code: { communityId, code: s.categoryCode } } });
    if (!category) {
      throw new DomainError(
        'not-found',
        `分类 ${s.categoryCode} 不存在（可先安装默认分类）/ no category ${s.categoryCode}: install the default tree or add it`,
      );
    }
    if (category.parentCode === null)
      throw new DomainError('validation-failed', `${s.categoryCode} is a category: file the activity under one of its sub-items`);
    if (!category.isActive) throw new DomainError('conflict', `category ${s.categoryCode} is switched off`);
  }

  private async insert(
    query: SqlQuery,
    communityId: string,
    recurrenceId: string | null,
    s: ActivitySettings,
    times: { startsAt: Date; endsAt: Date }[],
  ) {
    const rows = times.map((t) => ({
      id: randomUUID(),
      community_id: communityId,
      site_id: s.siteId,
      category_code: s.categoryCode,
      recurrence_id: recurrenceId,
      title: s.title,
      starts_at: t.startsAt.toISOString(),
      ends_at: t.endsAt.toISOString(),
      opens_before_minutes: s.opensBeforeMinutes,
      closes_after_minutes: s.closesAfterMinutes,
      check_out_grace_minutes: s.checkOutGraceMinutes,
      capacity: s.capacity,
      policy: s.policy,
      requires_review: s.requiresReview,
      auto_close: s.autoClose,
      debounce_seconds: s.debounceSeconds,
    }));
    const inserted = await query<ActivityRow>(INSERT_ACTIVITIES, [JSON.stringify(rows)]);
    return inserted.map(toActivity).sort((a, b) => a.startsAt.getTime() - b.startsAt.getTime());
  }

  async create(input: ActivitySettings & { communityId: string; startsAt: Date; endsAt: Date }): Promise<ActivityRecord> {
    if (input.endsAt <= input.startsAt) throw new DomainError('validation-failed', 'endsAt must be after startsAt');
    await this.assertSettings(input.communityId, input);
    const [created] = await this.db.transaction((query) => this.insert(query, input.communityId, null, input, [input]));
    return created!;
  }

  /** A weekly recurrence and all its occurrences, generated in the community's time zone. */
  async createRecurrence(input: { communityId: string; rule: WeeklyRule; settings: ActivitySettings; actor: string }) {
    await this.assertSettings(input.communityId, input.settings);
    const community = await this.prisma.community.findUnique({ where: { id: input.communityId } });
    if (!community) throw new DomainError('unknown-community', `no community ${input.communityId}`);
    const occurrences = weeklyOccurrences(input.rule, community.timezone);
    if (occurrences.length === 0) throw new DomainError('validation-failed', 'the rule has no occurrence between fromDate and untilDate');
    const id = randomUUID();
    const activities = await this.db.transaction(async (query) => {
      await query(
        `INSERT INTO activity_recurrence (id, community_id, rule, template, actor) VALUES ($1::uuid, $2::uuid, $3::jsonb, $4::jsonb, $5)`,
        [id, input.communityId, JSON.stringify(input.rule), JSON.stringify(input.settings), input.actor],
      );
      return this.insert(query, input.communityId, id, input.settings, occurrences);
    });
    return { id, communityId: input.communityId, rule: input.rule, timezone: community.timezone, activities };
  }

  async find(id: string): Promise<ActivityRecord | null> {
    const [row] = await this.db.transaction((query) => query<ActivityRow>(SELECT_ACTIVITY, [id]));
    return row ? toActivity(row) : null;
  }

  async list(filter: {
    communityId: string;
    from?: Date | undefined;
    to?: Date | undefined;
    siteId?: string | undefined;
  }): Promise<ActivityRecord[]> {
    const rows = await this.db.transaction((query) =>
      query<ActivityRow>(
        `SELECT ${SQL.ACTIVITY_COLUMNS} FROM activity a WHERE a.community_id = $1::uuid
           AND ($2 = '' OR a.ends_at >= NULLIF($2, '')::timestamptz) AND ($3 = '' OR a.starts_at < NULLIF($3, '')::timestamptz)
           AND ($4 = '' OR a.site_id = NULLIF($4, '')::uuid)
         ORDER BY a.starts_at, a.id LIMIT 1000`,
        // The embedded driver takes text parameters only: '' stands for "any".
        [filter.communityId, filter.from?.toISOString() ?? '', filter.to?.toISOString() ?? '', filter.siteId ?? ''],
      ),
    );
    return rows.map(toActivity);
  }

  /**
   * Changes an activity. Its times, site and points policy are fixed once anyone
   * has checked in (points were judged by them); title, capacity, category and
   * cancelling stay open.
   */
  async update(
    id: string,
    patch: Partial<ActivitySettings> & { startsAt?: Date; endsAt?: Date; isCancelled?: boolean },
  ): Promise<ActivityRecord> {
    const current = await this.find(id);
    if (!current) throw new DomainError('not-found', `no activity ${id}`);
    const fixed = (
      [
        'startsAt',
        'endsAt',
        'siteId',
        'policy',
        'requiresReview',
        'opensBeforeMinutes',
        'closesAfterMinutes',
        'checkOutGraceMinutes',
      ] as const
    ).filter((k) => patch[k] !== undefined);
    if (fixed.length > 0 && (await this.prisma.attendance.count({ where: { activityId: id } })) > 0) {
      throw new DomainError(
        'conflict',
        `已有居民签到，不能再修改 ${fixed.join(', ')} / residents have checked in: ${fixed.join(', ')} can no longer change`,
      );
    }
    const next = { ...current, ...patch };
    if (next.endsAt <= next.startsAt) throw new DomainError('validation-failed', 'endsAt must be after startsAt');
    if (patch.siteId !== undefined || patch.categoryCode !== undefined) await this.assertSettings(current.communityId, next);
    const data: Prisma.ActivityUpdateInput = {
      title: next.title,
      siteId: next.siteId,
      categoryCode: next.categoryCode,
      startsAt: next.startsAt,
      endsAt: next.endsAt,
      opensBeforeMinutes: next.opensBeforeMinutes,
      closesAfterMinutes: next.closesAfterMinutes,
      checkOutGraceMinutes: next.checkOutGraceMinutes,
      capacity: next.capacity,
      policy: next.policy,
      requiresReview: next.requiresReview,
      autoClose: next.autoClose,
      debounceSeconds: next.debounceSeconds,
      isCancelled: next.isCancelled,
    };
    await this.prisma.activity.update({ where: { id }, data });
    return (await this.find(id))!;
  }

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
