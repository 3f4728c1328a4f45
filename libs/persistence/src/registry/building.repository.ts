import { randomUUID } from 'node:crypto';
import { Prisma, type PrismaClient } from '../generated/prisma/client';

export interface BuildingRecord {
  id: string;
  communityId: string;
  name: string;
  createdAt: Date;
}

export interface BuildingDetails extends BuildingRecord {
  households: { id: string; name: string; residentCount: number }[];
}

export type CreateBuildingResult = { ok: true; building: BuildingRecord } | { ok: false; error: 'name-taken'; existingId: string };

/** Buildings (楼栋) of a community: households roll up to them ("credit buildings"). */
export class BuildingRepository {
  constructor(private readonly prisma: PrismaClient) {}

  async create(input: { communityId: string; name: string }): Promise<CreateBuildingResult> {
    try {
      const row = await this.prisma.building.create({ data: { id: randomUUID(), communityId: input.communityId, name: input.name } });
      return { ok: true, building: toRecord(row) };
    } catch (err) {
      if (!(err instanceof Prisma.PrismaClientKnownRequestError) || err.code !== 'P2002') throw err;
      const existing = await this.prisma.building.findUniqueOrThrow({
        where: { communityId_name: { communityId: input.communityId, name: input.name } },
      });
      return { ok: false, error: 'name-taken', existingId: existing.id };
    }
  }

  async list(communityId: string): Promise<BuildingRecord[]> {
    const rows = await this.prisma.building.findMany({ where: { communityId }, orderBy: { name: 'asc' } });
    return rows.map(toRecord);
  }

  async find(id: string): Promise<BuildingDetails | null> {
    const row = await this.prisma.building.findUnique({
      where: { id },
      include: { households: { orderBy: { name: 'asc' }, include: { _count: { select: { residents: true } } } } },
    });
    if (!row) return null;
    return {
      ...toRecord(row),
      households: row.households.map((h) => ({ id: h.id, name: h.name, residentCount: h._count.residents })),
    };
  }
}

function toRecord(row: { id: string; communityId: string; name: string; createdAt: Date }): BuildingRecord {
  return { id: row.id, communityId: row.communityId, name: row.name, createdAt: row.createdAt };
}
