import { randomUUID } from 'node:crypto';
import { DEFAULT_DEPOSIT_POINTS_PER_UNIT, type DepositPointsPerUnit } from '../../../domain/src';
import type { PrismaClient } from '../generated/prisma/client';

export interface CommunityRecord {
  id: string;
  name: string;
  timezone: string;
  depositPointsPerUnit: DepositPointsPerUnit;
  createdAt: Date;
}

export class CommunityRepository {
  constructor(private readonly prisma: PrismaClient) {}

  async create(input: { name: string; timezone: string; depositPointsPerUnit?: Partial<DepositPointsPerUnit> }): Promise<CommunityRecord> {
    const row = await this.prisma.community.create({
      data: {
        id: randomUUID(),
        name: input.name,
        timezone: input.timezone,
        depositPointsPerUnit: { ...DEFAULT_DEPOSIT_POINTS_PER_UNIT, ...input.depositPointsPerUnit },
      },
    });
    return toRecord(row);
  }

  async find(id: string): Promise<CommunityRecord | null> {
    const row = await this.prisma.community.findUnique({ where: { id } });
    return row ? toRecord(row) : null;
  }
}

function toRecord(row: { id: string; name: string; timezone: string; depositPointsPerUnit: unknown; createdAt: Date }): CommunityRecord {
  return {
    id: row.id,
    name: row.name,
    timezone: row.timezone,
    depositPointsPerUnit: { ...DEFAULT_DEPOSIT_POINTS_PER_UNIT, ...(row.depositPointsPerUnit as Partial<DepositPointsPerUnit>) },
    createdAt: row.createdAt,
  };
}
