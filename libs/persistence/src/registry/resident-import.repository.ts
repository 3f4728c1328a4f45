import { randomUUID } from 'node:crypto';
import { type CardStatus, type RejectedImportRow, type ResidentImportRow, importRejections, maskName } from '../../../domain/src';
import type { Prisma, PrismaClient } from '../generated/prisma/client';

export interface ResidentImportInput {
  importId: string;
  communityId: string;
  /** `staff:<name>`: residence and card_change rows record it. */
  actor: string;
  dryRun: boolean;
  /** The rows that passed the file checks, in file order. */
  rows: ResidentImportRow[];
  /** The rows the file checks rejected. */
  rejected: RejectedImportRow[];
}

export interface ResidentImportCounts {
  created: number;
  updated: number;
  unchanged: number;
  rejected: number;
  buildingsCreated: number;
  householdsCreated: number;
  cardsBound: number;
  moves: number;
}

export interface ResidentImportOutcome extends ResidentImportCounts {
  importId: string;
  dryRun: boolean;
  /** Every bad row, by line. */
  rejectedRows: RejectedImportRow[];
  /** Cards this import bound (none in a dry run): their held deposits may now be claimed. */
  boundCards: { uid: string; residentId: string }[];
}

export interface ResidentImportProgress {
  importId: string;
  phase: 'checking' | 'writing';
  /** Rows applied so far (0 while checking). */
  rowsDone: number;
  /** Rows that passed the file checks. */
  rowsTotal: number;
}

type Tx = Prisma.TransactionClient;

interface RowPlan {
  line: number;
  residentId: string;
  create?: { name: string; phone: string | null; externalRef: string; householdId: string | null };
  update?: { name?: string; phone?: string; householdId?: string };
  movesTo?: string;
  card?: { uid: string; kind: 'create' | 'rebind' };
}

interface Plan {
  buildings: { id: string; communityId: string; name: string }[];
  households: { id: string; communityId: string; name: string; buildingId: string | null }[];
  householdBuildings: { id: string; buildingId: string }[];
  rows: RowPlan[];
  rejected: RejectedImportRow[];
  counts: ResidentImportCounts;
}

const CHUNK = 500;
/** A big file is one long transaction (every row or none); PGlite serves it alone meanwhile. */
const IMPORT_TIMEOUT_MS = 30 * 60_000;

function chunks<T>(items: T[], size = CHUNK): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/**
 * Applies a resident register (CSV) to a community in one transaction:
 * residents upserted by their register number, buildings and households
 * created as named, moves recorded as residences, cards bound under the card
 * lifecycle's rules. Applying the same rows again changes nothing.
 */
export class ResidentImportRepository {
  private readonly running = new Map<string, ResidentImportProgress>();

  constructor(private readonly prisma: PrismaClient) {}

  async run(input: ResidentImportInput): Promise<ResidentImportOutcome> {
    const progress: ResidentImportProgress = { importId: input.importId, phase: 'checking', rowsDone: 0, rowsTotal: input.rows.length };
    this.running.set(input.importId, progress);
    try {
      return await this.prisma.$transaction(
        async (tx) => {
          const plan = await planImport(tx, input);
          const boundCards: ResidentImportOutcome['boundCards'] = [];
          if (!input.dryRun) {
            progress.phase = 'writing';
            // Unchanged and rejected rows need no writing: they are done.
            progress.rowsDone = input.rows.length - plan.rows.length;
            await writePlan(tx, input, plan, (done) => (progress.rowsDone += done));
            for (const row of plan.rows) if (row.card) boundCards.push({ uid: row.card.uid, residentId: row.residentId });
          }
          return {
            importId: input.importId,
            dryRun: input.dryRun,
            ...plan.counts,
            rejectedRows: plan.rejected,
            boundCards,
          };
        },
        { timeout: IMPORT_TIMEOUT_MS, maxWait: 60_000 },
      );
    } finally {
      this.running.delete(input.importId);
    }
  }

  /** How far a running import is; null once it has finished (or never ran here). */
  async progress(importId: string): Promise<ResidentImportProgress | null> {
    const progress = this.running.get(importId);
    return Promise.resolve(progress ? { ...progress } : null);
  }
}

async function planImport(tx: Tx, input: ResidentImportInput): Promise<Plan> {
  const { communityId } = input;
  const residentsByRef = new Map<string, { id: string; name: string; phone: string | null; householdId: string | null }>();
  for (const refs of chunks(input.rows.map((r) => r.ref))) {
    const found = await tx.resident.findMany({
      where: { communityId, externalRef: { in: refs } },
      select: { id: true, externalRef: true, name: true, phone: true, householdId: true },
    });
    for (const r of found) residentsByRef.set(r.externalRef!, r);
  }
  const buildings = await tx.building.findMany({ where: { communityId }, select: { id: true, name: true } });
  const buildingByName = new Map(buildings.map((b) => [b.name, b.id]));
  const buildingNameById = new Map(buildings.map((b) => [b.id, b.name]));
  const households = await tx.household.findMany({ where: { communityId }, select: { id: true, name: true, buildingId: true } });
  const householdByName = new Map(households.map((h) => [h.name, { ...h, isNew: false }]));

  const cardsByUid = new Map<string, { residentId: string; status: CardStatus }>();
  for (const uids of chunks(input.rows.flatMap((r) => (r.cardUid ? [r.cardUid] : [])))) {
    const found = await tx.card.findMany({ where: { uid: { in: uids } }, select: { uid: true, residentId: true, status: true } });
    for (const c of found) cardsByUid.set(c.uid, c);
  }
  // Holders named (masked) in the rejections: the staff need to know whom to ask.
  const holderIds = [...new Set([...cardsByUid.values()].map((c) => c.residentId))];
  const holders = new Map<string, { name: string; externalRef: string | null }>();
  for (const ids of chunks(holderIds)) {
    for (const h of await tx.resident.findMany({ where: { id: { in: ids } }, select: { id: true, name: true, externalRef: true } })) {
      holders.set(h.id, h);
    }
  }

  const plan: Plan = {
    buildings: [],
    households: [],
    householdBuildings: [],
    rows: [],
    rejected: [...input.rejected],
    counts: { created: 0, updated: 0, unchanged: 0, rejected: 0, buildingsCreated: 0, householdsCreated: 0, cardsBound: 0, moves: 0 },
  };
  for (const row of input.rows) {
    const existing = residentsByRef.get(row.ref);
    const residentId = existing?.id ?? randomUUID();

    // Judge first: a rejected row must create nothing, not even its building.
    const household = row.household ? householdByName.get(row.household) : undefined;
    if (row.building && household?.buildingId) {
      const registered = buildingNameById.get(household.buildingId)!;
      if (registered !== row.building) {
        plan.rejected.push(importRejections.householdInOtherBuilding(row, registered));
        continue;
      }
    }
    let card: RowPlan['card'];
    if (row.cardUid) {
      const stored = cardsByUid.get(row.cardUid);
      if (!stored) card = { uid: row.cardUid, kind: 'create' };
      else if (stored.status === 'unbound') card = { uid: row.cardUid, kind: 'rebind' };
      else if (stored.residentId !== residentId) {
        const holder = holders.get(stored.residentId);
        plan.rejected.push(
          importRejections.cardAlreadyBound(row, { maskedName: maskName(holder?.name ?? ''), ref: holder?.externalRef ?? null }),
        );
        continue;
      }
      // The resident's own card, active, lost or replaced: a register does not undo a loss report.
    }

    let isChanged = false;
    let buildingId: string | null = null;
    if (row.building) {
      buildingId = buildingByName.get(row.building) ?? null;
      if (!buildingId) {
        buildingId = randomUUID();
        plan.buildings.push({ id: buildingId, communityId, name: row.building });
        buildingByName.set(row.building, buildingId);
        buildingNameById.set(buildingId, row.building);
        plan.counts.buildingsCreated++;
      }
    }
    let householdId: string | null = null;
    if (row.household) {
      if (!household) {
        householdId = randomUUID();
        plan.households.push({ id: householdId, communityId, name: row.household, buildingId });
        householdByName.set(row.household, { id: householdId, name: row.household, buildingId, isNew: true });
        plan.counts.householdsCreated++;
      } else {
        householdId = household.id;
        if (buildingId && !household.buildingId) {
          // A household first registered without its building learns it now.
          household.buildingId = buildingId;
          if (household.isNew) plan.households.find((h) => h.id === household.id)!.buildingId = buildingId;
          else plan.householdBuildings.push({ id: household.id, buildingId });
          isChanged = true;
        }
      }
    }
    if (card) {
      cardsByUid.set(card.uid, { residentId, status: 'active' });
      plan.counts.cardsBound++;
    }

    const rowPlan: RowPlan = { line: row.line, residentId, ...(card ? { card } : {}) };
    if (!existing) {
      rowPlan.create = { name: row.name, phone: row.phone, externalRef: row.ref, householdId };
      plan.counts.created++;
    } else {
      // An empty cell leaves the stored value as it is.
      const update: NonNullable<RowPlan['update']> = {};
      if (row.name !== existing.name) update.name = row.name;
      if (row.phone && row.phone !== existing.phone) update.phone = row.phone;
      if (householdId && householdId !== existing.householdId) {
        update.householdId = householdId;
        rowPlan.movesTo = householdId;
        plan.counts.moves++;
      }
      if (Object.keys(update).length > 0) rowPlan.update = update;
      if (rowPlan.update || card || isChanged) plan.counts.updated++;
      else plan.counts.unchanged++;
    }
    if (rowPlan.create || rowPlan.update || rowPlan.card) plan.rows.push(rowPlan);
  }
  plan.rejected.sort((a, b) => a.line - b.line);
  plan.counts.rejected = plan.rejected.length;
  return plan;
}

async function writePlan(tx: Tx, input: ResidentImportInput, plan: Plan, onProgress: (rows: number) => void): Promise<void> {
  const now = new Date();
  const { actor, communityId } = input;
  for (const part of chunks(plan.buildings)) await tx.building.createMany({ data: part });
  for (const part of chunks(plan.households)) await tx.household.createMany({ data: part });
  for (const h of plan.householdBuildings) await tx.household.update({ where: { id: h.id }, data: { buildingId: h.buildingId } });

  for (const part of chunks(plan.rows)) {
    const created = part.flatMap((r) => (r.create ? [{ id: r.residentId, communityId, ...r.create }] : []));
    if (created.length > 0) await tx.resident.createMany({ data: created });
    for (const r of part) if (r.update) await tx.resident.update({ where: { id: r.residentId }, data: r.update });

    const movers = part.flatMap((r) => (r.movesTo ? [r.residentId] : []));
    if (movers.length > 0) await tx.residence.updateMany({ where: { residentId: { in: movers }, toAt: null }, data: { toAt: now } });
    const residences = part.flatMap((r) => {
      const householdId = r.create?.householdId ?? r.movesTo;
      return householdId ? [{ residentId: r.residentId, householdId, fromAt: now, actor }] : [];
    });
    if (residences.length > 0) await tx.residence.createMany({ data: residences });

    const binds = part.flatMap((r) => (r.card ? [{ ...r.card, residentId: r.residentId, line: r.line }] : []));
    const fresh = binds.filter((b) => b.kind === 'create');
    if (fresh.length > 0) {
      await tx.card.createMany({
        data: fresh.map((b) => ({ uid: b.uid, residentId: b.residentId, status: 'active' as const, boundAt: now, statusChangedAt: now })),
      });
    }
    for (const b of binds.filter((x) => x.kind === 'rebind')) {
      // Guarded: a card bound elsewhere since the check fails the import rather than being taken.
      const { count } = await tx.card.updateMany({
        where: { uid: b.uid, status: 'unbound' },
        data: { residentId: b.residentId, status: 'active', boundAt: now, statusChangedAt: now, replacedByUid: null },
      });
      if (count !== 1) throw new Error(`card ${b.uid} (line ${b.line}) was bound by someone else during the import; run the import again`);
    }
    if (binds.length > 0) {
      await tx.cardChange.createMany({
        data: binds.map((b) => ({
          uid: b.uid,
          residentId: b.residentId,
          action: 'bound' as const,
          reason: `CSV import ${input.importId}, line ${b.line}`,
          actor,
          at: now,
        })),
      });
    }
    onProgress(part.length);
  }
}
