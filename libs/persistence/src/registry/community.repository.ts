import { randomUUID } from 'node:crypto';
import { DEFAULT_DEPOSIT_POINTS_PER_UNIT, type DepositPointsPerUnit, GENESIS_HASH } from '../../../domain/src';
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
    const id = randomUUID();
    // With its ledger chain's head: every ledger writer locks it (libs/persistence/src/ledger).
    const [row] = await this.prisma.$transaction([
      this.prisma.community.create({
        data: {
          id,
          name: input.name,
          timezone: input.timezone,
          depositPointsPerUnit: { ...DEFAULT_DEPOSIT_POINTS_PER_UNIT, ...input.depositPointsPerUnit },
        },
      }),
      this.prisma.ledgerChainHead.create({ data: { communityId: id, chainSeq: 0n, hash: GENESIS_HASH } }),
    ]);
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
