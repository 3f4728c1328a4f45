import { randomUUID } from 'node:crypto';
import type { PrismaClient } from '../generated/prisma/client';

export class AdminTokenRepository {
  constructor(private readonly prisma: PrismaClient) {}

  count(): Promise<number> {
    return this.prisma.adminToken.count();
  }

  /** Stores (or replaces) the hash of the token with this name. */
  async put(name: string, tokenHash: string): Promise<void> {
    const existing = await this.prisma.adminToken.findFirst({ where: { name } });
    if (existing) await this.prisma.adminToken.update({ where: { id: existing.id }, data: { tokenHash } });
    else await this.prisma.adminToken.create({ data: { id: randomUUID(), name, tokenHash } });
  }

  async findNameByHash(tokenHash: string): Promise<string | null> {
    const row = await this.prisma.adminToken.findUnique({ where: { tokenHash }, select: { name: true } });
    return row?.name ?? null;
  }
}
