import { DomainError, type PointsRules, implicitRules, pointsRulesSchema } from '../../../domain/src';
import type { Database } from '../database';

export interface PointsRulesVersion {
  communityId: string;
  /** 0: the implicit version (the community's per-unit rates, no caps, no checks). */
  version: number;
  effectiveFrom: Date | null;
  rules: PointsRules;
  actor: string | null;
  createdAt: Date | null;
}

const LOCK_COMMUNITY = `SELECT id, deposit_points_per_unit FROM community WHERE id = $1::uuid FOR UPDATE`;
const COMMUNITY = `SELECT id, deposit_points_per_unit FROM community WHERE id = $1::uuid`;
const VERSIONS = `SELECT community_id, version, effective_from, rules, actor, created_at FROM points_rule WHERE community_id = $1::uuid ORDER BY version`;
const INSERT_VERSION = `INSERT INTO points_rule (community_id, version, effective_from, rules, actor)
  VALUES ($1::uuid, $2::integer, $3::timestamptz, $4::jsonb, $5) RETURNING created_at`;

/** A change may not reach back: events already judged keep their version, and late ones must not find a new past. */
const BACKDATE_SLACK_MS = 60_000;

interface VersionRow {
  community_id: string;
  version: number;
  effective_from: Date | string;
  rules: unknown;
  actor: string;
  created_at: Date | string;
}

/** Versioned points rules per community; append-only (a trigger refuses edits). */
export class PointsRulesRepository {
  constructor(
    private readonly db: Database,
    private readonly now: () => number = Date.now,
  ) {}

  /** Every version, oldest first, the implicit version 0 included. */
  async list(communityId: string): Promise<PointsRulesVersion[]> {
    return this.db.transaction(async (q) => {
      const [community] = await q<{ id: string; deposit_points_per_unit: Record<string, number> }>(COMMUNITY, [communityId]);
      if (!community) throw new DomainError('not-found', `no community with id ${communityId}`);
      const rows = await q<VersionRow>(VERSIONS, [communityId]);
      return [implicitVersion(communityId, community.deposit_points_per_unit), ...rows.map(toVersion)];
    });
  }

  /** Adds a version that applies to events from `effectiveFrom` (default now) on. */
  async add(input: { communityId: string; rules: unknown; effectiveFrom?: Date; actor: string }): Promise<PointsRulesVersion> {
    const parsed = pointsRulesSchema.safeParse(input.rules);
    if (!parsed.success) {
      throw new DomainError('validation-failed', parsed.error.issues.map((i) => `rules.${i.path.join('.')}: ${i.message}`).join('; '));
    }
    const now = this.now();
    const effectiveFrom = input.effectiveFrom ?? new Date(now);
    if (effectiveFrom.getTime() < now - BACKDATE_SLACK_MS) {
      throw new DomainError(
        'validation-failed',
        'effectiveFrom is in the past: a rule change applies to events from now on; leave it out, or give a future time',
      );
    }
    const version = await this.db.transaction(async (q) => {
      // The community row's lock numbers versions one at a time.
      const [community] = await q<{ id: string }>(LOCK_COMMUNITY, [input.communityId]);
      if (!community) throw new DomainError('not-found', `no community with id ${input.communityId}`);
      const rows = await q<VersionRow>(VERSIONS, [input.communityId]);
      const last = rows[rows.length - 1];
      if (last && new Date(last.effective_from).getTime() >= effectiveFrom.getTime()) {
        throw new DomainError(
          'conflict',
          `version ${last.version} takes effect at ${new Date(last.effective_from).toISOString()}; a new version must take effect after it`,
        );
      }
      const next = (last?.version ?? 0) + 1;
      const [written] = await q<{ created_at: Date | string }>(INSERT_VERSION, [
        input.communityId,
        String(next),
        effectiveFrom.toISOString(),
        JSON.stringify(parsed.data),
        input.actor,
      ]);
      return {
        communityId: input.communityId,
        version: next,
        effectiveFrom,
        rules: parsed.data,
        actor: input.actor,
        createdAt: new Date(written!.created_at),
      };
    });
    await this.db.makeDurable();
    return version;
  }
}

function implicitVersion(communityId: string, perUnit: Record<string, number>): PointsRulesVersion {
  return { communityId, version: 0, effectiveFrom: null, rules: implicitRules(perUnit), actor: null, createdAt: null };
}

function toVersion(r: VersionRow): PointsRulesVersion {
  return {
    communityId: r.community_id,
    version: r.version,
    effectiveFrom: new Date(r.effective_from),
    rules: pointsRulesSchema.parse(r.rules),
    actor: r.actor,
    createdAt: new Date(r.created_at),
  };
}
