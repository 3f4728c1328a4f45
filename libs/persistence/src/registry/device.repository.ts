import type { DeviceKind } from '../../../domain/src';
import { Prisma, type PrismaClient } from '../generated/prisma/client';

/** active: may log in; disabled: refused until re-enabled; retired: refused for ever, its id never reused. */
export type DeviceState = 'active' | 'disabled' | 'retired';

export interface DeviceRecord {
  id: string;
  kind: DeviceKind;
  communityId: string;
  label: string | null;
  isActive: boolean;
  state: DeviceState;
  createdAt: Date;
  retiredAt: Date | null;
  credentialsRotatedAt: Date | null;
  /** Set when the device provisioned itself with a provisioning key. */
  provisioningKeyId: string | null;
}

export interface DeviceCredentials {
  id: string;
  passwordHash: string;
  isActive: boolean;
}

export interface NewDevice {
  id: string;
  kind: DeviceKind;
  communityId: string;
  label?: string | undefined;
  passwordHash: string;
}

/** What a change of a device's credentials or state found. */
export type DeviceChange = { ok: true; device: DeviceRecord } | { ok: false; reason: 'not-found' | 'retired' };

/** What the broker needs to know of every device (Mosquitto dynamic security reconcile). */
export interface DeviceBrokerState {
  id: string;
  isActive: boolean;
  isRetired: boolean;
}

export class DeviceRepository {
  constructor(private readonly prisma: PrismaClient) {}

  /** Returns null when the id is taken (by any device, retired ones included). */
  async create(input: NewDevice): Promise<DeviceRecord | null> {
    try {
      const row = await this.prisma.device.create({ data: { ...input, label: input.label ?? null } });
      return toRecord(row);
    } catch (err) {
      if (isUniqueViolation(err)) return null;
      throw err;
    }
  }

  /**
   * All devices of a CSV file in one transaction: either every one is created,
   * or none is and the ids already taken are named.
   */
  async createMany(inputs: readonly NewDevice[]): Promise<{ ok: true; devices: DeviceRecord[] } | { ok: false; takenIds: string[] }> {
    const taken = await this.prisma.device.findMany({ where: { id: { in: inputs.map((d) => d.id) } }, select: { id: true } });
    if (taken.length > 0) return { ok: false, takenIds: taken.map((d) => d.id).sort() };
    try {
      const rows = await this.prisma.$transaction(
        inputs.map((input) => this.prisma.device.create({ data: { ...input, label: input.label ?? null } })),
      );
      return { ok: true, devices: rows.map(toRecord) };
    } catch (err) {
      // Registered by someone else between the check and the insert.
      if (isUniqueViolation(err)) return { ok: false, takenIds: [] };
      throw err;
    }
  }

  async find(id: string): Promise<DeviceRecord | null> {
    const row = await this.prisma.device.findUnique({ where: { id } });
    return row ? toRecord(row) : null;
  }

  async list(filter: {
    communityId?: string | undefined;
    kind?: DeviceKind | undefined;
    state?: DeviceState | undefined;
  }): Promise<DeviceRecord[]> {
    const rows = await this.prisma.device.findMany({
      where: {
        ...(filter.communityId ? { communityId: filter.communityId } : {}),
        ...(filter.kind ? { kind: filter.kind } : {}),
        ...(filter.state === 'active' ? { isActive: true } : {}),
        ...(filter.state === 'disabled' ? { isActive: false, retiredAt: null } : {}),
        ...(filter.state === 'retired' ? { retiredAt: { not: null } } : {}),
      },
      orderBy: { id: 'asc' },
      take: 5000,
    });
    return rows.map(toRecord);
  }

  async brokerStates(): Promise<DeviceBrokerState[]> {
    const rows = await this.prisma.device.findMany({ select: { id: true, isActive: true, retiredAt: true }, orderBy: { id: 'asc' } });
    return rows.map((r) => ({ id: r.id, isActive: r.isActive, isRetired: r.retiredAt !== null }));
  }

  async credentials(id: string): Promise<DeviceCredentials | null> {
    return this.prisma.device.findUnique({ where: { id }, select: { id: true, passwordHash: true, isActive: true } });
  }

  /** Disable or re-enable; a retired device stays retired. */
  async setActive(id: string, isActive: boolean): Promise<DeviceChange> {
    const rows = await this.prisma.device.updateManyAndReturn({ where: { id, retiredAt: null }, data: { isActive } });
    if (rows[0]) return { ok: true, device: toRecord(rows[0]) };
    return this.whyNot(id);
  }

  /** New credentials: the old hash is gone in the same statement. */
  async setPasswordHash(id: string, passwordHash: string, at: Date): Promise<DeviceChange> {
    const rows = await this.prisma.device.updateManyAndReturn({
      where: { id, retiredAt: null },
      data: { passwordHash, credentialsRotatedAt: at },
    });
    if (rows[0]) return { ok: true, device: toRecord(rows[0]) };
    return this.whyNot(id);
  }

  /** Terminal: refused at login, never re-enabled; the row stays for its history. */
  async retire(id: string, at: Date): Promise<DeviceChange> {
    const rows = await this.prisma.device.updateManyAndReturn({
      where: { id, retiredAt: null },
      // An unguessable hash nobody knows the password of: even a bug that skipped the flag could not log it in.
      data: { isActive: false, retiredAt: at, passwordHash: '!retired' },
    });
    if (rows[0]) return { ok: true, device: toRecord(rows[0]) };
    return this.whyNot(id);
  }

  async eventCounts(id: string): Promise<Record<string, number>> {
    const groups = await this.prisma.deviceEvent.groupBy({ by: ['result'], where: { deviceId: id }, _count: { _all: true } });
    return Object.fromEntries(groups.map((g) => [g.result, g._count._all]));
  }

  private async whyNot(id: string): Promise<DeviceChange> {
    const row = await this.prisma.device.findUnique({ where: { id }, select: { retiredAt: true } });
    return { ok: false, reason: row ? 'retired' : 'not-found' };
  }
}

export function isUniqueViolation(err: unknown): boolean {
  return err instanceof Prisma.PrismaClientKnownRequestError && err.code === 'P2002';
}

type DeviceRow = Omit<DeviceRecord, 'state'> & { passwordHash?: string };

/** Keeps exactly the public fields: the password hash never leaves this file. */
function toRecord(row: DeviceRow): DeviceRecord {
  return {
    id: row.id,
    kind: row.kind,
    communityId: row.communityId,
    label: row.label,
    isActive: row.isActive,
    state: row.retiredAt ? 'retired' : row.isActive ? 'active' : 'disabled',
    createdAt: row.createdAt,
    retiredAt: row.retiredAt,
    credentialsRotatedAt: row.credentialsRotatedAt,
    provisioningKeyId: row.provisioningKeyId,
  };
}
