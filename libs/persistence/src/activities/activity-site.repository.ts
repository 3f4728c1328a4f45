import { randomUUID } from 'node:crypto';
import { DEFAULT_CATEGORY_TREE, DomainError, flattenCategories } from '../../../domain/src';
import { Prisma, type PrismaClient } from '../generated/prisma/client';

export interface SiteRecord {
  id: string;
  communityId: string;
  name: string;
  address: string | null;
  createdAt: Date;
  terminals: string[];
}

export interface CategoryRecord {
  code: string;
  parentCode: string | null;
  nameZh: string;
  nameEn: string;
  sort: number;
  isActive: boolean;
}

export interface CategoryTreeNode extends CategoryRecord {
  children: CategoryRecord[];
}

const isUniqueViolation = (err: unknown) => err instanceof Prisma.PrismaClientKnownRequestError && err.code === 'P2002';

/** Activity sites, the terminals standing at them, and the community's activity category tree. */
export class ActivitySiteRepository {
  constructor(private readonly prisma: PrismaClient) {}

  private async assertCommunity(communityId: string): Promise<void> {
    if (!(await this.prisma.community.findUnique({ where: { id: communityId }, select: { id: true } }))) {
      throw new DomainError('unknown-community', `no community ${communityId}`);
    }
  }

  async createSite(input: { communityId: string; name: string; address?: string | undefined }): Promise<SiteRecord> {
    await this.assertCommunity(input.communityId);
    try {
      const row = await this.prisma.activitySite.create({
        data: { id: randomUUID(), communityId: input.communityId, name: input.name, address: input.address ?? null },
      });
      return { ...row, terminals: [] };
    } catch (err) {
      if (isUniqueViolation(err))
        throw new DomainError('conflict', `该社区已有名为「${input.name}」的场地 / a site named ${input.name} exists already`);
      throw err;
    }
  }

  async updateSite(id: string, patch: { name?: string | undefined; address?: string | null | undefined }): Promise<SiteRecord> {
    try {
      await this.prisma.activitySite.update({
        where: { id },
        data: {
          ...(patch.name !== undefined ? { name: patch.name } : {}),
          ...(patch.address !== undefined ? { address: patch.address } : {}),
        },
      });
    } catch (err) {
      if (isUniqueViolation(err))
        throw new DomainError('conflict', `该社区已有名为「${patch.name}」的场地 / a site named ${patch.name} exists already`);
      throw err;
    }
    return (await this.findSite(id))!;
  }

  async findSite(id: string): Promise<SiteRecord | null> {
    const row = await this.prisma.activitySite.findUnique({ where: { id } });
    if (!row) return null;
    const terminals = await this.prisma.terminalSite.findMany({ where: { siteId: id }, orderBy: { deviceId: 'asc' } });
    return { ...row, terminals: terminals.map((t) => t.deviceId) };
  }

  async listSites(communityId: string): Promise<SiteRecord[]> {
    const rows = await this.prisma.activitySite.findMany({ where: { communityId }, orderBy: { name: 'asc' } });
    const terminals = await this.prisma.terminalSite.findMany({
      where: { siteId: { in: rows.map((r) => r.id) } },
      orderBy: { deviceId: 'asc' },
    });
    return rows.map((r) => ({ ...r, terminals: terminals.filter((t) => t.siteId === r.id).map((t) => t.deviceId) }));
  }

  /** Puts a check-in terminal of the site's community at the site (moving it from another one). */
  async assignTerminal(siteId: string, deviceId: string): Promise<{ deviceId: string; siteId: string; previousSiteId: string | null }> {
    const site = await this.prisma.activitySite.findUnique({ where: { id: siteId } });
    if (!site) throw new DomainError('not-found', `no site ${siteId}`);
    const device = await this.prisma.device.findUnique({ where: { id: deviceId } });
    if (!device) throw new DomainError('not-found', `no device ${deviceId}`);
    if (device.kind !== 'terminal') {
      throw new DomainError(
        'conflict',
        `设备 ${deviceId} 不是签到终端（${device.kind}）/ device ${deviceId} is a ${device.kind}, not a check-in terminal`,
      );
    }
    if (device.communityId !== site.communityId) {
      throw new DomainError('wrong-community', `设备 ${deviceId} 属于另一个社区 / device ${deviceId} belongs to another community`);
    }
    const previous = await this.prisma.terminalSite.findUnique({ where: { deviceId } });
    await this.prisma.terminalSite.upsert({
      where: { deviceId },
      create: { deviceId, siteId },
      update: { siteId, assignedAt: new Date() },
    });
    return { deviceId, siteId, previousSiteId: previous && previous.siteId !== siteId ? previous.siteId : null };
  }

  async unassignTerminal(siteId: string, deviceId: string): Promise<{ deviceId: string; siteId: string }> {
    const removed = await this.prisma.terminalSite.deleteMany({ where: { deviceId, siteId } });
    if (removed.count === 0) throw new DomainError('not-found', `terminal ${deviceId} is not assigned to site ${siteId}`);
    return { deviceId, siteId };
  }

  async siteOfTerminal(deviceId: string): Promise<string | null> {
    return (await this.prisma.terminalSite.findUnique({ where: { deviceId } }))?.siteId ?? null;
  }

  /** Installs the default tree (10 categories, 28 sub-items); codes already present are left as they are. */
  async installDefaultCategories(communityId: string): Promise<{ installed: number }> {
    await this.assertCommunity(communityId);
    const result = await this.prisma.activityCategory.createMany({
      data: flattenCategories(DEFAULT_CATEGORY_TREE).map((c) => ({ id: randomUUID(), communityId, ...c })),
      skipDuplicates: true,
    });
    return { installed: result.count };
  }

  async categoryTree(communityId: string): Promise<CategoryTreeNode[]> {
    const rows = (await this.prisma.activityCategory.findMany({ where: { communityId }, orderBy: [{ sort: 'asc' }, { code: 'asc' }] })).map(
      toCategory,
    );
    return rows.filter((r) => r.parentCode === null).map((c) => ({ ...c, children: rows.filter((r) => r.parentCode === c.code) }));
  }

  async findCategory(communityId: string, code: string): Promise<CategoryRecord | null> {
    const row = await this.prisma.activityCategory.findUnique({ where: { communityId_code: { communityId, code } } });
    return row ? toCategory(row) : null;
  }

  /** A new category (no parent) or sub-item (parentCode: an existing category). */
  async createCategory(input: {
    communityId: string;
    code: string;
    parentCode?: string | undefined;
    nameZh: string;
    nameEn: string;
  }): Promise<CategoryRecord> {
    await this.assertCommunity(input.communityId);
    if (input.parentCode) {
      const parent = await this.findCategory(input.communityId, input.parentCode);
      if (!parent) throw new DomainError('not-found', `no category ${input.parentCode} in this community`);
      if (parent.parentCode !== null) throw new DomainError('conflict', `${input.parentCode} is a sub-item: sub-items have no sub-items`);
    }
    const siblings = await this.prisma.activityCategory.count({
      where: { communityId: input.communityId, parentCode: input.parentCode ?? null },
    });
    try {
      const row = await this.prisma.activityCategory.create({
        data: {
          id: randomUUID(),
          communityId: input.communityId,
          code: input.code,
          parentCode: input.parentCode ?? null,
          nameZh: input.nameZh,
          nameEn: input.nameEn,
          sort: siblings,
        },
      });
      return toCategory(row);
    } catch (err) {
      if (isUniqueViolation(err))
        throw new DomainError('conflict', `分类代码 ${input.code} 已存在 / category code ${input.code} exists already`);
      throw err;
    }
  }

  async updateCategory(
    communityId: string,
    code: string,
    patch: { nameZh?: string | undefined; nameEn?: string | undefined; isActive?: boolean | undefined; sort?: number | undefined },
  ): Promise<CategoryRecord> {
    const found = await this.findCategory(communityId, code);
    if (!found) throw new DomainError('not-found', `no category ${code} in this community`);
    const data: Prisma.ActivityCategoryUpdateInput = {};
    if (patch.nameZh !== undefined) data.nameZh = patch.nameZh;
    if (patch.nameEn !== undefined) data.nameEn = patch.nameEn;
    if (patch.isActive !== undefined) data.isActive = patch.isActive;
    if (patch.sort !== undefined) data.sort = patch.sort;
    const row = await this.prisma.activityCategory.update({ where: { communityId_code: { communityId, code } }, data });
    return toCategory(row);
  }
}

function toCategory(r: {
  code: string;
  parentCode: string | null;
  nameZh: string;
  nameEn: string;
  sort: number;
  isActive: boolean;
}): CategoryRecord {
  return { code: r.code, parentCode: r.parentCode, nameZh: r.nameZh, nameEn: r.nameEn, sort: r.sort, isActive: r.isActive };
}
