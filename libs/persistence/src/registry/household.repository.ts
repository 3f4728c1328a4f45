import { randomUUID } from 'node:crypto';
import { Prisma, type PrismaClient } from '../generated/prisma/client';

export interface HouseholdRecord {
  id: string;
  communityId: string;
  buildingId: string | null;
  buildingName: string | null;
  /** As the community writes it, e.g. 3-2-201. */
  name: string;
  createdAt: Date;
}

export interface HouseholdDetails extends HouseholdRecord {
  residents: { id: string; name: string; externalRef: string | null }[];
}

export interface ResidenceRecord {
  id: string;
  householdId: string;
  householdName: string;
  buildingId: string | null;
  buildingName: string | null;
  fromAt: Date;
  /** null: where the resident lives now. */
  toAt: Date | null;
  actor: string;
}

export type CreateHouseholdResult =
  | { ok: true; household: HouseholdRecord }
  | { ok: false; error: 'name-taken'; existingId: string }
  | { ok: false; error: 'building-not-found' };

export type MoveResult =
  | { ok: true; isChanged: boolean; residence: ResidenceRecord }
  | { ok: false; error: 'resident-not-found' | 'household-not-found' | 'other-community' };

const withBuilding = { building: { select: { name: true } } } as const;

/** Households (户) and where each resident lived when (residence). */
export class HouseholdRepository {
  constructor(private readonly prisma: PrismaClient) {}

  async create(input: { communityId: string; name: string; buildingId?: string | null }): Promise<CreateHouseholdResult> {
    if (input.buildingId) {
      const building = await this.prisma.building.findUnique({ where: { id: input.buildingId }, select: { communityId: true } });
      if (!building || building.communityId !== input.communityId) return { ok: false, error: 'building-not-found' };
    }
    try {
      const row = await this.prisma.household.create({
        data: { id: randomUUID(), communityId: input.communityId, name: input.name, buildingId: input.buildingId ?? null },
        include: withBuilding,
      });
      return { ok: true, household: toRecord(row) };
    } catch (err) {
      if (!(err instanceof Prisma.PrismaClientKnownRequestError) || err.code !== 'P2002') throw err;
      const existing = await this.prisma.household.findUniqueOrThrow({
        where: { communityId_name: { communityId: input.communityId, name: input.name } },
      });
      return { ok: false, error: 'name-taken', existingId: existing.id };
    }
  }

  async list(communityId: string): Promise<HouseholdRecord[]> {
    const rows = await this.prisma.household.findMany({ where: { communityId }, orderBy: { name: 'asc' }, include: withBuilding });
    return rows.map(toRecord);
  }

  /** The household with the residents who live there now. */
  async find(id: string): Promise<HouseholdDetails | null> {
    const row = await this.prisma.household.findUnique({
      where: { id },
      include: { ...withBuilding, residents: { orderBy: { name: 'asc' }, select: { id: true, name: true, externalRef: true } } },
    });
    if (!row) return null;
    return { ...toRecord(row), residents: row.residents };
  }

  /**
   * Closes the resident's open residence, opens one in the new household and
   * points the resident there, in one transaction. Moving to the household the
   * resident lives in changes nothing.
   */
  async moveResident(input: { residentId: string; householdId: string; actor: string }): Promise<MoveResult> {
    return this.prisma.$transaction(async (tx): Promise<MoveResult> => {
      // Lock the resident: two moves at once must not both close the same residence.
      const locked = await tx.$queryRaw<{ community_id: string; household_id: string | null }[]>`
        SELECT community_id::text AS community_id, household_id::text AS household_id FROM resident WHERE id = ${input.residentId}::uuid FOR UPDATE`;
      const resident = locked[0];
      if (!resident) return { ok: false, error: 'resident-not-found' };
      const household = await tx.household.findUnique({ where: { id: input.householdId }, select: { communityId: true } });
      if (!household) return { ok: false, error: 'household-not-found' };
      if (household.communityId !== resident.community_id) return { ok: false, error: 'other-community' };

      const open = await tx.residence.findFirst({
        where: { residentId: input.residentId, toAt: null },
        include: { household: { include: withBuilding } },
      });
      if (resident.household_id === input.householdId && open?.householdId === input.householdId) {
        return { ok: true, isChanged: false, residence: toResidence(open) };
      }
      const now = new Date();
      if (open) await tx.residence.update({ where: { id: open.id }, data: { toAt: now } });
      const opened = await tx.residence.create({
        data: { residentId: input.residentId, householdId: input.householdId, fromAt: now, actor: input.actor },
        include: { household: { include: withBuilding } },
      });
      await tx.resident.update({ where: { id: input.residentId }, data: { householdId: input.householdId } });
      return { ok: true, isChanged: true, residence: toResidence(opened) };
    });
  }

  /** Where the resident lived, oldest first; the last row with toAt null is now. */
  async residenceHistory(residentId: string): Promise<ResidenceRecord[]> {
    const rows = await this.prisma.residence.findMany({
      where: { residentId },
      orderBy: [{ fromAt: 'asc' }, { id: 'asc' }],
      include: { household: { include: withBuilding } },
    });
    return rows.map(toResidence);
  }
}

type HouseholdRow = {
  id: string;
  communityId: string;
  buildingId: string | null;
  name: string;
  createdAt: Date;
  building: { name: string } | null;
};

function toRecord(row: HouseholdRow): HouseholdRecord {
  return {
    id: row.id,
    communityId: row.communityId,
    buildingId: row.buildingId,
    buildingName: row.building?.name ?? null,
    name: row.name,
    createdAt: row.createdAt,
  };
}

function toResidence(row: {
  id: bigint;
  householdId: string;
  fromAt: Date;
  toAt: Date | null;
  actor: string;
  household: HouseholdRow;
}): ResidenceRecord {
  return {
    id: row.id.toString(),
    householdId: row.householdId,
    householdName: row.household.name,
    buildingId: row.household.buildingId,
    buildingName: row.household.building?.name ?? null,
    fromAt: row.fromAt,
    toAt: row.toAt,
    actor: row.actor,
  };
}
