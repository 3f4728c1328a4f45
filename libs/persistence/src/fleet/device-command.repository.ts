import { randomUUID } from 'node:crypto';
import type { Prisma, PrismaClient } from '../generated/prisma/client';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export const COMMAND_STATUSES = ['queued', 'sent', 'succeeded', 'failed', 'expired'] as const;
export type CommandStatus = (typeof COMMAND_STATUSES)[number];

export interface DeviceCommandRecord {
  id: string;
  deviceId: string;
  name: string;
  params: Record<string, unknown>;
  status: CommandStatus;
  createdAt: Date;
  createdBy: string;
  expiresAt: Date;
  sentAt: Date | null;
  finishedAt: Date | null;
  /** The device's `detail` from its result, or why the gateway closed the command. */
  resultDetail: string | null;
}

export interface NewDeviceCommand {
  deviceId: string;
  name: string;
  params: Record<string, unknown>;
  expiresAt: Date;
  createdBy: string;
}

/** What a result from the `command-results` topic found. */
export type CommandResultOutcome =
  | { outcome: 'recorded'; command: DeviceCommandRecord }
  | { outcome: 'unknown-command' }
  | { outcome: 'already-finished'; status: CommandStatus };

/**
 * Commands to devices (issue #6). Not the hot path: Prisma. Every status change
 * is one conditional UPDATE, so two replicas never send the same command twice
 * and a late result cannot overwrite an earlier one.
 */
export class DeviceCommandRepository {
  constructor(private readonly prisma: PrismaClient) {}

  async create(input: NewDeviceCommand): Promise<DeviceCommandRecord> {
    const row = await this.prisma.deviceCommand.create({
      data: { id: randomUUID(), ...input, params: input.params as Prisma.InputJsonObject },
    });
    return toRecord(row);
  }

  /** Newest first; queued commands past their expiry are marked expired first. */
  async list(deviceId: string, now: Date, limit = 100): Promise<DeviceCommandRecord[]> {
    await this.expireDue(now, deviceId);
    const rows = await this.prisma.deviceCommand.findMany({ where: { deviceId }, orderBy: { createdAt: 'desc' }, take: limit });
    return rows.map(toRecord);
  }

  async find(id: string): Promise<DeviceCommandRecord | null> {
    const row = await this.prisma.deviceCommand.findUnique({ where: { id } });
    return row ? toRecord(row) : null;
  }

  /**
   * Takes every unexpired queued command of a device for sending, oldest first:
   * marked `sent` in one statement, so only one caller ever gets each.
   */
  async claimQueued(deviceId: string, now: Date): Promise<DeviceCommandRecord[]> {
    const rows = await this.prisma.deviceCommand.updateManyAndReturn({
      where: { deviceId, status: 'queued', expiresAt: { gt: now } },
      data: { status: 'sent', sentAt: now },
    });
    return rows.map(toRecord).sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime());
  }

  /** The broker did not take it: back in the queue for the next time the device is online. */
  async requeue(id: string): Promise<void> {
    await this.prisma.deviceCommand.updateMany({
      where: { id, status: 'sent', finishedAt: null },
      data: { status: 'queued', sentAt: null },
    });
  }

  async recordResult(deviceId: string, commandId: string, ok: boolean, detail: string | null, at: Date): Promise<CommandResultOutcome> {
    // Ids are UUIDs: anything else names no command (and would be a type error in the query).
    if (!UUID.test(commandId)) return { outcome: 'unknown-command' };
    const rows = await this.prisma.deviceCommand.updateManyAndReturn({
      where: { id: commandId, deviceId, status: 'sent' },
      data: { status: ok ? 'succeeded' : 'failed', finishedAt: at, resultDetail: detail },
    });
    if (rows[0]) return { outcome: 'recorded', command: toRecord(rows[0]) };
    const row = await this.prisma.deviceCommand.findFirst({ where: { id: commandId, deviceId }, select: { status: true } });
    return row ? { outcome: 'already-finished', status: row.status as CommandStatus } : { outcome: 'unknown-command' };
  }

  /** Queued commands past their expiry become `expired`; returns how many. */
  async expireDue(now: Date, deviceId?: string): Promise<number> {
    const { count } = await this.prisma.deviceCommand.updateMany({
      where: { status: 'queued', expiresAt: { lte: now }, ...(deviceId ? { deviceId } : {}) },
      data: { status: 'expired', finishedAt: now, resultDetail: 'expired before the device came online' },
    });
    return count;
  }

  /** Devices with something waiting, so the gateway checks the queue only for them. */
  async devicesWithQueued(now: Date): Promise<string[]> {
    const rows = await this.prisma.deviceCommand.findMany({
      where: { status: 'queued', expiresAt: { gt: now } },
      distinct: ['deviceId'],
      select: { deviceId: true },
    });
    return rows.map((r) => r.deviceId);
  }
}

type CommandRow = Omit<DeviceCommandRecord, 'params' | 'status'> & { params: unknown; status: string };

function toRecord(row: CommandRow): DeviceCommandRecord {
  return {
    id: row.id,
    deviceId: row.deviceId,
    name: row.name,
    params: (row.params ?? {}) as Record<string, unknown>,
    status: row.status as CommandStatus,
    createdAt: row.createdAt,
    createdBy: row.createdBy,
    expiresAt: row.expiresAt,
    sentAt: row.sentAt,
    finishedAt: row.finishedAt,
    resultDetail: row.resultDetail,
  };
}
