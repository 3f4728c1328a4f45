import {
  type ActivityPosting,
  type ActivityRule,
  type AttendanceChange,
  type AttendanceState,
  type AttendanceStatus,
  type AutoClosePolicy,
  type TapDecision,
  judgeTap,
  pointsPolicySchema,
} from '../../../domain/src';
import { randomUUID } from 'node:crypto';
import type { SqlQuery } from '../database';
import * as SQL from './activity.sql';

export interface ActivityRow {
  id: string;
  community_id: string;
  site_id: string;
  category_code: string;
  recurrence_id: string | null;
  title: string;
  starts_at: Date | string;
  ends_at: Date | string;
  opens_before_minutes: number;
  closes_after_minutes: number;
  check_out_grace_minutes: number;
  capacity: number | null;
  policy: unknown;
  requires_review: boolean;
  auto_close: string;
  debounce_seconds: number;
  is_cancelled: boolean;
  closed_at: Date | string | null;
  created_at: Date | string;
}

export interface AttendanceRow {
  id: string;
  activity_id: string;
  resident_id: string;
  community_id: string;
  site_id: string;
  status: AttendanceStatus;
  first_tap_at: Date | string;
  last_tap_at: Date | string;
  checked_out_at: Date | string | null;
  minutes: number;
  points: number;
  taps: number;
  requires_review: boolean;
  sources: unknown[];
  created_at: Date | string;
  updated_at: Date | string;
}

export function activityRuleOf(r: ActivityRow): ActivityRule {
  return {
    id: r.id,
    communityId: r.community_id,
    siteId: r.site_id,
    title: r.title,
    startsAt: new Date(r.starts_at),
    endsAt: new Date(r.ends_at),
    opensBeforeMinutes: r.opens_before_minutes,
    closesAfterMinutes: r.closes_after_minutes,
    checkOutGraceMinutes: r.check_out_grace_minutes,
    capacity: r.capacity,
    policy: pointsPolicySchema.parse(r.policy),
    requiresReview: r.requires_review,
    autoClose: r.auto_close as AutoClosePolicy,
    debounceSeconds: r.debounce_seconds,
  };
}

export function attendanceStateOf(r: AttendanceRow): AttendanceState {
  return {
    id: r.id,
    activityId: r.activity_id,
    residentId: r.resident_id,
    siteId: r.site_id,
    firstTapAt: new Date(r.first_tap_at),
    lastTapAt: new Date(r.last_tap_at),
    status: r.status,
    checkedOutAt: r.checked_out_at === null ? null : new Date(r.checked_out_at),
    minutes: r.minutes,
    points: r.points,
    taps: r.taps,
  };
}

/** Where a tap or a manual entry came from; stored in the attendance's sources. */
export type TapSource = { deviceId: string; eventId: string } | { actor: string; reason: string };

export interface BookedTap {
  decision: TapDecision;
  /** The ledger entries the tap adds: one per attendance whose points grew. */
  postings: ActivityPosting[];
  isPending: boolean;
}

const key = (activityId: string, residentId: string) => `${activityId}|${residentId}`;

/**
 * The attendance state of a batch's residents, read once after their rows are
 * locked, advanced tap by tap in memory (two taps of one resident in one batch
 * see each other), and written back whole in one statement.
 */
export class CheckInBook {
  private readonly attendances = new Map<string, AttendanceState>();
  private readonly counts = new Map<string, number>();
  private readonly activities = new Map<string, ActivityRule>();
  private readonly changed = new Map<
    string,
    { state: AttendanceState; communityId: string; requiresReview: boolean; sources: unknown[] }
  >();

  private constructor() {}

  /** Loads the residents' attendances at these activities (and any open elsewhere), locking capacity-limited activities. */
  static async open(query: SqlQuery, residentIds: readonly string[], activities: readonly ActivityRule[]): Promise<CheckInBook> {
    const book = new CheckInBook();
    for (const a of activities) book.activities.set(a.id, a);
    const activityIds = [...book.activities.keys()];
    const residents = [...new Set(residentIds)];
    if (residents.length === 0) return book;
    const rows = await query<AttendanceRow>(SQL.SELECT_RESIDENT_ATTENDANCE, [JSON.stringify(residents), JSON.stringify(activityIds)]);
    const missing = [...new Set(rows.map((r) => r.activity_id).filter((id) => !book.activities.has(id)))];
    if (missing.length > 0) {
      for (const r of await query<ActivityRow>(SQL.SELECT_ACTIVITIES_BY_ID, [JSON.stringify(missing)])) {
        book.activities.set(r.id, activityRuleOf(r));
      }
    }
    for (const r of rows) book.attendances.set(key(r.activity_id, r.resident_id), attendanceStateOf(r));
    const limited = activities.filter((a) => a.capacity !== null).map((a) => a.id);
    if (limited.length > 0) {
      for (const r of await query<{ id: string; taken: number }>(SQL.LOCK_CAPACITY, [JSON.stringify(limited)])) {
        book.counts.set(r.id, r.taken);
      }
    }
    return book;
  }

  /** A tap (or a manual entry) by a resident at a site, judged against the site's activities. */
  tap(input: { residentId: string; siteId: string; at: Date; activities: readonly ActivityRule[]; source: TapSource }): BookedTap {
    const attendances = new Map<string, AttendanceState>();
    for (const a of input.activities) {
      const found = this.attendances.get(key(a.id, input.residentId));
      if (found) attendances.set(a.id, found);
    }
    const openElsewhere = [...this.attendances.values()]
      .filter(
        (t) => t.residentId === input.residentId && t.status === 'in' && t.siteId !== input.siteId && this.activities.has(t.activityId),
      )
      .map((attendance) => ({ activity: this.activities.get(attendance.activityId)!, attendance }));
    const decision = judgeTap({
      residentId: input.residentId,
      siteId: input.siteId,
      at: input.at,
      activities: input.activities,
      attendances,
      openElsewhere,
      counts: this.counts,
      newId: randomUUID,
    });
    const source = { at: input.at.toISOString(), ...input.source };
    if (decision.kind === 'refused') {
      if (decision.stray && decision.activity)
        this.record({ activity: decision.activity, attendance: decision.stray, pointsAdded: 0 }, source);
      return { decision, postings: [], isPending: false };
    }
    if (decision.kind === 'checked-in') this.counts.set(decision.activity.id, (this.counts.get(decision.activity.id) ?? 0) + 1);
    const changes = [decision, ...decision.closedElsewhere];
    const postings = changes.flatMap((c) => this.record(c, source));
    return { decision, postings, isPending: decision.activity.requiresReview && decision.pointsAdded > 0 };
  }

  /** Applies a change made outside tap() (the auto-close), with its ledger postings. */
  apply(change: AttendanceChange, source: Record<string, unknown>): ActivityPosting[] {
    return this.record(change, source);
  }

  attendanceOf(activityId: string, residentId: string): AttendanceState | undefined {
    return this.attendances.get(key(activityId, residentId));
  }

  /** Keeps the new state and returns the posting for the points it adds. */
  private record(change: AttendanceChange, source: unknown): ActivityPosting[] {
    const { activity, attendance } = change;
    const k = key(activity.id, attendance.residentId);
    this.attendances.set(k, attendance);
    const before = this.changed.get(k);
    this.changed.set(k, {
      state: attendance,
      communityId: activity.communityId,
      requiresReview: activity.requiresReview,
      sources: [...(before?.sources ?? []), source],
    });
    if (change.pointsAdded <= 0) return [];
    return [
      {
        kind: activity.requiresReview ? 'pending' : 'posted',
        amount: change.pointsAdded,
        idempotencyKey: `attendance:${attendance.id}:${attendance.points}`,
        reason: `活动签到 / check-in: ${activity.title} (${activity.startsAt.toISOString().slice(0, 10)})`,
      },
    ];
  }

  /** The changed attendances, as UPSERT_ATTENDANCE takes them. */
  rows() {
    return [...this.changed.values()].map(({ state: s, communityId, requiresReview, sources }) => ({
      id: s.id,
      activity_id: s.activityId,
      resident_id: s.residentId,
      community_id: communityId,
      site_id: s.siteId,
      status: s.status,
      first_tap_at: s.firstTapAt.toISOString(),
      last_tap_at: s.lastTapAt.toISOString(),
      checked_out_at: s.checkedOutAt?.toISOString() ?? null,
      minutes: s.minutes,
      points: s.points,
      taps: s.taps,
      requires_review: requiresReview,
      sources,
    }));
  }

  async write(query: SqlQuery): Promise<void> {
    const rows = this.rows();
    if (rows.length > 0) await query(SQL.UPSERT_ATTENDANCE, [JSON.stringify(rows)]);
  }
}
