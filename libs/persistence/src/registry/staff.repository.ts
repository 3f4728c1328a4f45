import { randomBytes, randomUUID } from 'node:crypto';
import { Prisma, type PrismaClient } from '../generated/prisma/client';
import { hashApiToken } from './api-token-hash';

/** The same six roles as the API's role contract (apps/gateway/src/http/roles.ts). */
export type StaffRoleName = 'admin' | 'credit_admin' | 'credit_collector' | 'clerk' | 'operator' | 'auditor';

export interface StaffTokenRecord {
  id: string;
  userId: string;
  label: string;
  createdAt: Date;
  revokedAt: Date | null;
}

export interface StaffUserRecord {
  id: string;
  name: string;
  displayName: string;
  role: StaffRoleName;
  /** null: every community (district staff); otherwise only this one. */
  communityId: string | null;
  isActive: boolean;
  createdAt: Date;
  /** Never the tokens themselves: only their hashes are stored. */
  tokens: StaffTokenRecord[];
}

/** Who holds a token that is still good: not revoked, of an active user. */
export interface StaffActorRecord {
  userId: string;
  tokenId: string;
  name: string;
  displayName: string;
  role: StaffRoleName;
  communityId: string | null;
}

export type CreateStaffUserResult =
  { ok: true; user: StaffUserRecord } | { ok: false; error: 'name-taken' } | { ok: false; error: 'unknown-community' };

const withTokens = { tokens: { orderBy: { createdAt: 'asc' }, omit: { tokenHash: true } } } as const;

/** Staff users and their API tokens. */
export class StaffRepository {
  constructor(private readonly prisma: PrismaClient) {}

  async createUser(input: {
    name: string;
    displayName: string;
    role: StaffRoleName;
    communityId: string | null;
  }): Promise<CreateStaffUserResult> {
    if (input.communityId !== null) {
      const community = await this.prisma.community.findUnique({ where: { id: input.communityId }, select: { id: true } });
      if (!community) return { ok: false, error: 'unknown-community' };
    }
    try {
      const row = await this.prisma.staffUser.create({ data: { id: randomUUID(), ...input }, include: withTokens });
      return { ok: true, user: row };
    } catch (err) {
      if (err instanceof Prisma.PrismaClientKnownRequestError && err.code === 'P2002') return { ok: false, error: 'name-taken' };
      throw err;
    }
  }

  /** Every staff user, by name, with their tokens (active and revoked). */
  listUsers(): Promise<StaffUserRecord[]> {
    return this.prisma.staffUser.findMany({ orderBy: { name: 'asc' }, include: withTokens });
  }

  findUser(id: string): Promise<StaffUserRecord | null> {
    return this.prisma.staffUser.findUnique({ where: { id }, include: withTokens });
  }

  /** Changes role and/or active flag; null when there is no such user. */
  async updateUser(
    id: string,
    change: { isActive?: boolean | undefined; role?: StaffRoleName | undefined },
  ): Promise<StaffUserRecord | null> {
    const data = {
      ...(change.isActive === undefined ? {} : { isActive: change.isActive }),
      ...(change.role === undefined ? {} : { role: change.role }),
    };
    const updated = await this.prisma.staffUser.updateMany({ where: { id }, data });
    if (updated.count === 0) return null;
    return this.findUser(id);
  }

  /**
   * Makes a new token for the user. The token is returned here once; only its
   * hash is stored. null when there is no such user.
   */
  async issueToken(userId: string, label: string): Promise<{ token: string; record: StaffTokenRecord } | null> {
    const user = await this.prisma.staffUser.findUnique({ where: { id: userId }, select: { id: true } });
    if (!user) return null;
    const token = `jfs_${randomBytes(32).toString('base64url')}`;
    const record = await this.prisma.staffToken.create({
      data: { id: randomUUID(), userId, label, tokenHash: hashApiToken(token) },
      omit: { tokenHash: true },
    });
    return { token, record };
  }

  /** Revokes one token of the user; revoking it again keeps the first time. null when not found. */
  async revokeToken(userId: string, tokenId: string): Promise<StaffTokenRecord | null> {
    await this.prisma.staffToken.updateMany({ where: { id: tokenId, userId, revokedAt: null }, data: { revokedAt: new Date() } });
    return this.prisma.staffToken.findFirst({ where: { id: tokenId, userId }, omit: { tokenHash: true } });
  }

  /** The holder of a token, or null if the token is unknown, revoked, or its user inactive. */
  async findActorByTokenHash(tokenHash: string): Promise<StaffActorRecord | null> {
    const row = await this.prisma.staffToken.findUnique({
      where: { tokenHash },
      select: { id: true, revokedAt: true, user: true },
    });
    if (!row || row.revokedAt !== null || !row.user.isActive) return null;
    const { user } = row;
    return {
      userId: user.id,
      tokenId: row.id,
      name: user.name,
      displayName: user.displayName,
      role: user.role,
      communityId: user.communityId,
    };
  }
}
