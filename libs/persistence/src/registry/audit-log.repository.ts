import { Prisma, type PrismaClient } from '../generated/prisma/client';

/** JSON as it went over the wire: what `before` and `after` hold. */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

export interface AuditEntryInput {
  /** `staff:<name>`, as on ledger entries. */
  actor: string;
  /** e.g. `POST /api/v1/residents/:id/cards` (the route pattern, not the URL). */
  action: string;
  entityType: string;
  entityId: string | null;
  before: JsonValue;
  after: JsonValue;
}

export interface AuditEntryRecord extends AuditEntryInput {
  id: string;
  at: Date;
}

export interface AuditLogQuery {
  entityType?: string | undefined;
  entityId?: string | undefined;
  actor?: string | undefined;
  /** Inclusive. */
  since?: Date | undefined;
  /** Exclusive. */
  until?: Date | undefined;
  /** Page: only entries older than this id (the previous page's `nextCursor`). */
  cursor?: string | undefined;
  limit: number;
}

export interface AuditLogPage {
  entries: AuditEntryRecord[];
  /** Pass as `cursor` for the next (older) page; null on the last page. */
  nextCursor: string | null;
}

const asJson = (value: JsonValue) => (value === null ? Prisma.DbNull : (value as Prisma.InputJsonValue));

/** Every write through the API. Append-only: the table refuses UPDATE and DELETE. */
export class AuditLogRepository {
  constructor(private readonly prisma: PrismaClient) {}

  async record(entry: AuditEntryInput): Promise<{ id: string; at: Date }> {
    const row = await this.prisma.auditLog.create({
      data: { ...entry, before: asJson(entry.before), after: asJson(entry.after) },
      select: { id: true, at: true },
    });
    return { id: row.id.toString(), at: row.at };
  }

  /** Newest first. */
  async list(query: AuditLogQuery): Promise<AuditLogPage> {
    const rows = await this.prisma.auditLog.findMany({
      where: {
        ...(query.entityType === undefined ? {} : { entityType: query.entityType }),
        ...(query.entityId === undefined ? {} : { entityId: query.entityId }),
        ...(query.actor === undefined ? {} : { actor: query.actor }),
        ...(query.since || query.until
          ? { at: { ...(query.since ? { gte: query.since } : {}), ...(query.until ? { lt: query.until } : {}) } }
          : {}),
        ...(query.cursor === undefined ? {} : { id: { lt: BigInt(query.cursor) } }),
      },
      orderBy: { id: 'desc' },
      take: query.limit + 1,
    });
    const page = rows.slice(0, query.limit);
    return {
      entries: page.map((r) => ({
        id: r.id.toString(),
        at: r.at,
        actor: r.actor,
        action: r.action,
        entityType: r.entityType,
        entityId: r.entityId,
        before: r.before as JsonValue,
        after: r.after as JsonValue,
      })),
      nextCursor: rows.length > query.limit ? page[page.length - 1]!.id.toString() : null,
    };
  }
}
