import type { DeviceKind } from '../../../domain/src';
import { Prisma, type PrismaClient } from '../generated/prisma/client';

export interface DeviceRecord {
  id: string;
  kind: DeviceKind;
  communityId: string;
  label: string | null;
  isActive: boolean;
  createdAt: Date;
}

export interface DeviceCredentials {
  id: string;
  passwordHash: string;
  isActive: boolean;
}

export class DeviceRepository {
  constructor(private readonly prisma: PrismaClient) {}

  /** Returns null when the id is taken. */
  async create(input: {
    id: string;
    kind: DeviceKind;
    communityId: string;
    label?: string | undefined;
    passwordHash: string;
  }): Promise<DeviceRecord | null> {
    try {
      const row = await this.prisma.device.create({ data: { ...input, label: input.label ?? null } });
      return toRecord(row);
    } catch (err) {
      if (err instanceof Prisma.PrismaClientKnownRequestError && err.code === 'P2002') return null;
      throw err;
    }
  }

  async find(id: string): Promise<DeviceRecord | null> {
    const row = await this.prisma.device.findUnique({ where: { id } });
    return row ? toRecord(row) : null;
  }

  async credentials(id: string): Promise<DeviceCredentials | null> {
    return this.prisma.device.findUnique({ where: { id }, select: { id: true, passwordHash: true, isActive: true } });
  }

  async setActive(id: string, isActive: boolean): Promise<DeviceRecord | null> {
    const rows = await this.prisma.device.updateManyAndReturn({ where: { id }, data: { isActive } });
    return rows[0] ? toRecord(rows[0]) : null;
  }

  async eventCounts(id: string): Promise<Record<string, number>> {
    const groups = await this.prisma.deviceEvent.groupBy({ by: ['result'], where: { deviceId: id }, _count: { _all: true } });
    return Object.fromEntries(groups.map((g) => [g.result, g._count._all]));
  }
}

/** Keeps exactly the public fields: the password hash never leaves this file. */
function toRecord(row: DeviceRecord): DeviceRecord {
  return { id: row.id, kind: row.kind, communityId: row.communityId, label: row.label, isActive: row.isActive, createdAt: row.createdAt };
}
