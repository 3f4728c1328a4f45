import { randomUUID } from 'node:crypto';
import { type ActivityRule, DomainError, type WeeklyRule, weeklyOccurrences } from '../../../domain/src';
import type { Database, SqlQuery } from '../database';
import type { Prisma } from '../generated/prisma/client';
import * as SQL from './activity.sql';
import { type ActivityRow, activityRuleOf } from './check-in-book';

/** What staff set on an activity: the check-in rule's settings (domain ActivityRule) and its category. */
export type ActivitySettings = { categoryCode: string } & Pick<
  ActivityRule,
  | 'siteId'
  | 'title'
  | 'opensBeforeMinutes'
  | 'closesAfterMinutes'
  | 'checkOutGraceMinutes'
  | 'capacity'
  | 'policy'
  | 'requiresReview'
  | 'autoClose'
  | 'debounceSeconds'
>;

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

export const toActivity = (r: ActivityRow): ActivityRecord => {
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

const SELECT_ACTIVITY = SQL.SELECT_ACTIVITY;

/**
 * Activities (one row per occurrence) and weekly recurrences. Attendance is in
 * attendance.repository.ts; the tap path in the ingest repository
 * (terminal-check-ins.ts).
 */
export class ActivityRepository {
  constructor(private readonly db: Database) {}

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
}
