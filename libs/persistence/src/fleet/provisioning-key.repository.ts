import { randomUUID } from 'node:crypto';
import type { DeviceKind } from '../../../domain/src';
import type { PrismaClient } from '../generated/prisma/client';
import { type DeviceRecord, DeviceRepository, type NewDevice, isUniqueViolation } from '../registry/device.repository';

export interface ProvisioningKeyRecord {
  id: string;
  communityId: string;
  /** The public half; the secret is shown once and stored as a hash. */
  key: string;
  label: string | null;
  kinds: DeviceKind[];
  maxDevices: number;
  usedCount: number;
  expiresAt: Date;
  revokedAt: Date | null;
  createdAt: Date;
  createdBy: string;
}

export interface NewProvisioningKey {
  communityId: string;
  key: string;
  secretHash: string;
  label?: string | undefined;
  kinds: DeviceKind[];
  maxDevices: number;
  expiresAt: Date;
  createdBy: string;
}

/** Why a provisioning request was refused; each is a code the device receives. */
export type ProvisioningRefusal =
  'unknown-key' | 'wrong-secret' | 'key-revoked' | 'key-expired' | 'key-used-up' | 'kind-not-allowed' | 'device-id-taken';

export type ProvisionOutcome = { ok: true; device: DeviceRecord; key: ProvisioningKeyRecord } | { ok: false; reason: ProvisioningRefusal };

/** A refusal judged from the key alone (no secret): null when the key may still create a device of that kind. */
export function keyRefusal(key: ProvisioningKeyRecord, kind: DeviceKind, now: Date): ProvisioningRefusal | null {
  if (key.revokedAt) return 'key-revoked';
  if (key.expiresAt.getTime() <= now.getTime()) return 'key-expired';
  if (key.usedCount >= key.maxDevices) return 'key-used-up';
  if (!key.kinds.includes(kind)) return 'kind-not-allowed';
  return null;
}

class Refused extends Error {
  constructor(readonly reason: ProvisioningRefusal) {
    super(reason);
  }
}

export class ProvisioningKeyRepository {
  constructor(private readonly prisma: PrismaClient) {}

  async create(input: NewProvisioningKey): Promise<ProvisioningKeyRecord> {
    const row = await this.prisma.provisioningKey.create({ data: { id: randomUUID(), ...input, label: input.label ?? null } });
    return toRecord(row);
  }

  async list(communityId: string): Promise<ProvisioningKeyRecord[]> {
    const rows = await this.prisma.provisioningKey.findMany({ where: { communityId }, orderBy: { createdAt: 'desc' } });
    return rows.map(toRecord);
  }

  async find(id: string): Promise<ProvisioningKeyRecord | null> {
    const row = await this.prisma.provisioningKey.findUnique({ where: { id } });
    return row ? toRecord(row) : null;
  }

  /** The key with its secret's hash, for the gateway to check a request against. */
  async findByKey(key: string): Promise<{ record: ProvisioningKeyRecord; secretHash: string } | null> {
    const row = await this.prisma.provisioningKey.findUnique({ where: { key } });
    return row ? { record: toRecord(row), secretHash: row.secretHash } : null;
  }

  /** Returns null when there is no such key; revoking twice keeps the first time. */
  async revoke(id: string, at: Date): Promise<ProvisioningKeyRecord | null> {
    await this.prisma.provisioningKey.updateMany({ where: { id, revokedAt: null }, data: { revokedAt: at } });
    return this.find(id);
  }

  /**
   * One use of the key and the new device, in one transaction: the key row is
   * locked by its conditional UPDATE, so concurrent requests never exceed its
   * count, and a refused device (id taken) gives its use back.
   */
  async provision(keyId: string, device: NewDevice & { kind: DeviceKind }, now: Date): Promise<ProvisionOutcome> {
    try {
      return await this.prisma.$transaction(async (tx) => {
        const used = await tx.provisioningKey.updateManyAndReturn({
          where: { id: keyId, revokedAt: null, expiresAt: { gt: now }, usedCount: { lt: tx.provisioningKey.fields.maxDevices } },
          data: { usedCount: { increment: 1 } },
        });
        const key = used[0];
        if (!key) {
          const current = await tx.provisioningKey.findUnique({ where: { id: keyId } });
          throw new Refused(current ? (keyRefusal(toRecord(current), device.kind, now) ?? 'key-expired') : 'unknown-key');
        }
        if (!key.kinds.includes(device.kind)) throw new Refused('kind-not-allowed');
        const created = await new DeviceRepository(tx as unknown as PrismaClient).find(device.id);
        if (created) throw new Refused('device-id-taken');
        const row = await tx.device.create({
          data: { ...device, label: device.label ?? null, provisioningKeyId: keyId },
        });
        const record = await new DeviceRepository(tx as unknown as PrismaClient).find(row.id);
        return { ok: true as const, device: record!, key: toRecord(key) };
      });
    } catch (err) {
      if (err instanceof Refused) return { ok: false, reason: err.reason };
      if (isUniqueViolation(err)) return { ok: false, reason: 'device-id-taken' };
      // The CHECK on used_count <= max_devices: two requests raced for the last use.
      if (String((err as Error).message).includes('provisioning_key_used_count')) return { ok: false, reason: 'key-used-up' };
      throw err;
    }
  }
}

type KeyRow = Omit<ProvisioningKeyRecord, 'kinds'> & { kinds: string[]; secretHash?: string };

function toRecord(row: KeyRow): ProvisioningKeyRecord {
  return {
    id: row.id,
    communityId: row.communityId,
    key: row.key,
    label: row.label,
    kinds: row.kinds as DeviceKind[],
    maxDevices: row.maxDevices,
    usedCount: row.usedCount,
    expiresAt: row.expiresAt,
    revokedAt: row.revokedAt,
    createdAt: row.createdAt,
    createdBy: row.createdBy,
  };
}
