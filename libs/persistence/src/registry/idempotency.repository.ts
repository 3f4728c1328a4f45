import { Prisma, type PrismaClient } from '../generated/prisma/client';
import type { JsonValue } from './audit-log.repository';

/** A status of 0 marks a claim whose first run has not answered yet. */
export const IN_PROGRESS_STATUS = 0;

export interface IdempotentRequestRecord {
  actor: string;
  key: string;
  method: string;
  path: string;
  bodyHash: string;
  /** 0 while the first run is still working. */
  status: number;
  response: JsonValue;
  createdAt: Date;
}

export interface IdempotencyClaim {
  actor: string;
  key: string;
  method: string;
  path: string;
  bodyHash: string;
  /** A claim left in progress longer than this (its process died) may be taken over. */
  staleAfterMs: number;
}

export type ClaimResult = { claimed: true } | { claimed: false; existing: IdempotentRequestRecord };

/**
 * Answers of API calls made with an Idempotency-Key. The primary key
 * (actor, key) is the claim: of two concurrent requests with the same key, one
 * inserts and runs, the other finds its row.
 */
export class IdempotencyRepository {
  constructor(private readonly prisma: PrismaClient) {}

  async claim(claim: IdempotencyClaim): Promise<ClaimResult> {
    const { staleAfterMs, ...row } = claim;
    await this.prisma.idempotentRequest.deleteMany({
      where: { actor: row.actor, key: row.key, status: IN_PROGRESS_STATUS, createdAt: { lt: new Date(Date.now() - staleAfterMs) } },
    });
    try {
      await this.prisma.idempotentRequest.create({ data: { ...row, status: IN_PROGRESS_STATUS, response: Prisma.JsonNull } });
      return { claimed: true };
    } catch (err) {
      if (!(err instanceof Prisma.PrismaClientKnownRequestError) || err.code !== 'P2002') throw err;
    }
    const existing = await this.find(row.actor, row.key);
    // Released between our insert and this read: the caller may simply try again.
    if (!existing) return this.claim(claim);
    return { claimed: false, existing };
  }

  /** Stores the first successful answer under the claim. */
  async complete(actor: string, key: string, answer: { status: number; response: JsonValue }): Promise<void> {
    await this.prisma.idempotentRequest.update({
      where: { actor_key: { actor, key } },
      data: { status: answer.status, response: answer.response === null ? Prisma.JsonNull : (answer.response as Prisma.InputJsonValue) },
    });
  }

  /** Drops a claim whose run failed, so that a retry runs again. */
  async release(actor: string, key: string): Promise<void> {
    await this.prisma.idempotentRequest.deleteMany({ where: { actor, key, status: IN_PROGRESS_STATUS } });
  }

  async find(actor: string, key: string): Promise<IdempotentRequestRecord | null> {
    const row = await this.prisma.idempotentRequest.findUnique({ where: { actor_key: { actor, key } } });
    return row ? { ...row, response: row.response as JsonValue } : null;
  }
}
