import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  GENESIS_HASH,
  type ChainHead,
  type LedgerEntryDraft,
  type ResidentPoints,
  type SealedLedgerEntry,
  accountName,
  residentAccount,
  sealEntries,
  systemAccount,
} from '../../libs/domain/src';
import { type Database, openDatabase } from '../../libs/persistence/src/database';
import { LedgerRepository } from '../../libs/persistence/src/ledger/ledger.repository';
import { ENTRY_COLUMNS, ENTRY_RECORD, entryValues } from '../../libs/persistence/src/ledger/ledger.sql';
import { entryRow } from '../../libs/persistence/src/ledger/append-entries';
import { LedgerReportsRepository } from '../../libs/persistence/src/reports/ledger-reports.repository';

/**
 * `node dist/scripts/bench/ledger-bench.js [--residents 10000] [--entries 1000000]`
 * (`npm run bench:ledger`): builds one community of N residents (4 to a
 * household, 50 households to a building) with M ledger entries spread over a
 * year in a fresh embedded database — generated in JS, sealed with the domain's
 * sealEntries, inserted in big batches — then times the quarterly
 * reconciliation, the leaderboards, a statement and the ledger verify, with the
 * process RSS after each. Progress on stderr, the table on stdout.
 */
const BATCH = 10_000;
const YEAR_START = Date.parse('2026-01-01T00:00:00+08:00');
const YEAR_MS = 365 * 24 * 3600_000;
const QUARTER = { from: new Date('2026-07-01T00:00:00+08:00'), to: new Date('2026-10-01T00:00:00+08:00') };

function argValue(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0) return fallback;
  const v = Number(process.argv[i + 1]);
  if (!Number.isInteger(v) || v <= 0) throw new Error(`--${name} needs a positive whole number`);
  return v;
}

const started = performance.now();
const progress = (line: string) =>
  process.stderr.write(`[ledger-bench ${((performance.now() - started) / 1000).toFixed(1).padStart(6)} s] ${line}\n`);
const rssMb = () => Math.round(process.memoryUsage().rss / 1024 / 1024);

/** A tiny deterministic PRNG (mulberry32): the same ledger on every run. */
function prng(seed: number) {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const INSERT = `INSERT INTO ledger_entry (id, ${ENTRY_COLUMNS})
  SELECT v.id, ${entryValues('v')} FROM jsonb_to_recordset($1::jsonb) AS v(id bigint, ${ENTRY_RECORD})`;

async function build(db: Database, residentCount: number, entryCount: number) {
  const community = randomUUID();
  const residentIds = Array.from({ length: residentCount }, () => randomUUID()).sort();
  const households = Math.ceil(residentCount / 4);
  const buildings = Math.ceil(households / 50);
  await db.prisma.$executeRawUnsafe(
    `INSERT INTO community (id, name, deposit_points_per_unit) VALUES ('${community}', '基准社区 bench', '{}')`,
  );
  await db.prisma.$executeRawUnsafe(
    `INSERT INTO ledger_chain_head (community_id, chain_seq, hash) VALUES ('${community}', 0, '${GENESIS_HASH}')`,
  );
  await db.prisma.$executeRawUnsafe(
    `INSERT INTO device (id, kind, community_id, password_hash) VALUES ('bench-bin', 'bin', '${community}', 'x')`,
  );
  await db.prisma.$executeRawUnsafe(`
    INSERT INTO building (id, community_id, name)
    SELECT ('00000000-0000-4000-b000-' || lpad(i::text, 12, '0'))::uuid, '${community}', i || '号楼' FROM generate_series(1, ${buildings}) i`);
  await db.prisma.$executeRawUnsafe(`
    INSERT INTO household (id, community_id, building_id, name)
    SELECT ('00000000-0000-4000-c000-' || lpad(i::text, 12, '0'))::uuid, '${community}',
           ('00000000-0000-4000-b000-' || lpad((1 + (i - 1) / 50)::text, 12, '0'))::uuid, (1 + (i - 1) / 50) || '-' || i
    FROM generate_series(1, ${households}) i`);
  for (let i = 0; i < residentCount; i += BATCH) {
    const rows = residentIds.slice(i, i + BATCH).map((id, j) => ({
      id,
      name: `居民${i + j + 1}`,
      household_id: `00000000-0000-4000-c000-${String(1 + Math.floor((i + j) / 4)).padStart(12, '0')}`,
    }));
    await db.transaction((q) =>
      q(
        `INSERT INTO resident (id, community_id, name, household_id)
         SELECT r.id, '${community}'::uuid, r.name, r.household_id FROM jsonb_to_recordset($1::jsonb) AS r(id uuid, name text, household_id uuid)`,
        [JSON.stringify(rows)],
      ),
    );
  }
  progress(`${residentCount} residents in ${households} households, ${buildings} buildings`);

  // The entries: mostly deposits, with manual/activity credits, pending credits
  // settled or voided later, redemptions, gifts, reversals and some expiry.
  const rand = prng(42);
  const heads = new Map<string, ChainHead>([[community, { chainSeq: 0n, hash: GENESIS_HASH }]]);
  const points = new Map<string, ResidentPoints>(residentIds.map((id) => [id, { balance: 0, pendingPoints: 0 }]));
  const issuance = accountName(systemAccount('issuance', community));
  const supermarket = accountName(systemAccount('supermarket', community));
  const expiry = accountName(systemAccount('expiry', community));
  const openPending: { id: number; resident: string; amount: number; source: LedgerEntryDraft['source'] }[] = [];
  const reversible: { id: number; resident: string; amount: number }[] = [];
  let nextId = 1;
  const pick = () => residentIds[Math.floor(rand() * residentIds.length)]!;
  const base = (i: number, id: number): Omit<LedgerEntryDraft, 'kind' | 'debitAccount' | 'creditAccount' | 'amount' | 'source'> => ({
    communityId: community,
    pendingEntryId: null,
    reversesEntryId: null,
    idempotencyKey: `bench:${id}`,
    actor: 'bench',
    reason: null,
    createdAt: new Date(YEAR_START + Math.floor((i / entryCount) * YEAR_MS)),
  });
  const draftFor = (i: number, id: number): LedgerEntryDraft => {
    const r = rand();
    const b = base(i, id);
    const resident = pick();
    const p = points.get(resident)!;
    if (r < 0.04 && openPending.length > 0) {
      const pending = openPending.splice(Math.floor(rand() * openPending.length), 1)[0]!;
      return {
        ...b,
        kind: rand() < 0.8 ? 'settle' : 'void',
        debitAccount: issuance,
        creditAccount: accountName(residentAccount(pending.resident)),
        amount: pending.amount,
        source: pending.source,
        pendingEntryId: String(pending.id),
      };
    }
    if (r < 0.09 && openPending.length < 5000) {
      const amount = 1 + Math.floor(rand() * 20);
      openPending.push({ id, resident, amount, source: 'activity' });
      return {
        ...b,
        kind: 'pending',
        debitAccount: issuance,
        creditAccount: accountName(residentAccount(resident)),
        amount,
        source: 'activity',
      };
    }
    if (r < 0.1 && reversible.length > 0) {
      const k = Math.floor(rand() * reversible.length);
      const original = reversible[k]!;
      if (points.get(original.resident)!.balance >= original.amount) {
        reversible.splice(k, 1);
        return {
          ...b,
          kind: 'posted',
          debitAccount: accountName(residentAccount(original.resident)),
          creditAccount: issuance,
          amount: original.amount,
          source: 'reversal',
          reversesEntryId: String(original.id),
          reason: '误记 recorded by mistake',
        };
      }
    }
    if (r < 0.18 && p.balance >= 10) {
      const amount = 10 + Math.floor(rand() * Math.min(50, p.balance - 9));
      return {
        ...b,
        kind: 'posted',
        debitAccount: accountName(residentAccount(resident)),
        creditAccount: supermarket,
        amount,
        source: 'redemption',
      };
    }
    if (r < 0.21 && p.balance >= 5) {
      let to = pick();
      if (to === resident) to = residentIds[(residentIds.indexOf(resident) + 1) % residentIds.length]!;
      return {
        ...b,
        kind: 'posted',
        debitAccount: accountName(residentAccount(resident)),
        creditAccount: accountName(residentAccount(to)),
        amount: 1 + Math.floor(rand() * 5),
        source: 'gift',
      };
    }
    if (r < 0.215 && p.balance >= 1) {
      return {
        ...b,
        kind: 'posted',
        debitAccount: accountName(residentAccount(resident)),
        creditAccount: expiry,
        amount: p.balance,
        source: 'expiry',
      };
    }
    const source = r < 0.27 ? 'manual' : 'device_event';
    const amount = source === 'manual' ? 5 + Math.floor(rand() * 20) : 1 + Math.floor(rand() * 9);
    if (reversible.length < 5000 && rand() < 0.05) reversible.push({ id, resident, amount });
    return { ...b, kind: 'posted', debitAccount: issuance, creditAccount: accountName(residentAccount(resident)), amount, source };
  };

  for (let i = 0; i < entryCount; i += BATCH) {
    // Sealed one by one: each draft is drawn against the balances the entries before it left.
    const sealed: SealedLedgerEntry[] = [];
    for (let j = i; j < Math.min(entryCount, i + BATCH); j++) sealed.push(...sealEntries([draftFor(j, nextId++)], heads, points));
    const firstId = nextId - sealed.length;
    await db.transaction((q) => q(INSERT, [JSON.stringify(sealed.map((e, k) => ({ id: String(firstId + k), ...entryRow(e) })))]));
    if ((i / BATCH) % 10 === 9 || i + BATCH >= entryCount)
      progress(`${Math.min(entryCount, i + BATCH).toLocaleString('en-US')} entries, RSS ${rssMb()} MB`);
  }
  const head = heads.get(community)!;
  await db.transaction(async (q) => {
    await q(`SELECT setval('ledger_entry_id_seq', $1::bigint)`, [String(nextId - 1)]);
    await q(`UPDATE ledger_chain_head SET chain_seq = $2::bigint, hash = $3 WHERE community_id = $1::uuid`, [
      community,
      head.chainSeq.toString(),
      head.hash,
    ]);
    for (let i = 0; i < residentIds.length; i += BATCH) {
      const rows = residentIds
        .slice(i, i + BATCH)
        .map((id) => ({ id, balance: points.get(id)!.balance, pending_points: points.get(id)!.pendingPoints }));
      await q(
        `UPDATE resident SET balance = p.balance, pending_points = p.pending_points
         FROM jsonb_to_recordset($1::jsonb) AS p(id uuid, balance integer, pending_points integer) WHERE resident.id = p.id`,
        [JSON.stringify(rows)],
      );
    }
    // device events of the year (for the reconciliation's event counts): one per deposit entry, roughly
    await q(`
      INSERT INTO device_event (device_id, event_id, type, payload, received_at, result, reason, points, ack)
      SELECT 'bench-bin', 'e' || i, 'deposit', '{}',
             to_timestamp(${YEAR_START / 1000} + (i::double precision / ${entryCount}) * ${YEAR_MS / 1000}),
             (CASE WHEN i % 50 = 0 THEN 'pending' WHEN i % 97 = 0 THEN 'rejected' ELSE 'credited' END)::event_result,
             CASE WHEN i % 50 = 0 THEN 'unknown-card' WHEN i % 97 = 0 THEN 'invalid-event' END, 5, '{}'
      FROM generate_series(1, ${Math.floor(entryCount * 0.7)}) i`);
    return [];
  });
  progress('balances, chain head and device events written; VACUUM ANALYZE');
  await db.maintain();
  return { community, residentId: residentIds[0]! };
}

async function timed<T>(
  name: string,
  fn: () => Promise<T>,
  rows: { step: string; seconds: number; rssMb: number; note: string }[],
  note: (r: T) => string,
) {
  progress(`${name}…`);
  const t = performance.now();
  const result = await fn();
  const seconds = (performance.now() - t) / 1000;
  rows.push({ step: name, seconds, rssMb: rssMb(), note: note(result) });
  progress(`${name}: ${seconds.toFixed(2)} s, RSS ${rssMb()} MB`);
  return result;
}

async function main(): Promise<void> {
  const residentCount = argValue('residents', 10_000);
  const entryCount = argValue('entries', 1_000_000);
  const dataDir = mkdtempSync(join(tmpdir(), 'jifen-ledger-bench-'));
  const db = await openDatabase({ dataDir, maintenanceIntervalMs: 24 * 3600_000 });
  const rows: { step: string; seconds: number; rssMb: number; note: string }[] = [];
  try {
    const { community, residentId } = await timed(
      'build',
      () => build(db, residentCount, entryCount),
      rows,
      () => `${residentCount} residents, ${entryCount} entries`,
    );
    const reports = new LedgerReportsRepository(db);
    const ledger = new LedgerRepository(db);
    await timed(
      'reconciliation (Q3)',
      () => reports.reconciliation(community, QUARTER.from, QUARTER.to),
      rows,
      (r) => `ok=${r.ok}, ${r.total.entries} resident sides in the quarter, ${r.eventsTotal} device events`,
    );
    await timed(
      'leaderboards (Q3, top 10)',
      () => reports.leaderboards(community, QUARTER.from, QUARTER.to, 10),
      rows,
      (r) => `top resident ${r.residents[0]?.points ?? 0} points`,
    );
    await timed(
      'statement (1 resident, Q3)',
      () => reports.statement(residentId, QUARTER.from, QUARTER.to),
      rows,
      (r) => `${r.lines.length} lines`,
    );
    let lastProgress = 0;
    await timed(
      'ledger verify',
      () =>
        ledger.verify({
          communityId: community,
          onProgress: (n) => {
            if (n - lastProgress >= 100_000) progress(`  verify: ${(lastProgress = n).toLocaleString('en-US')} entries`);
          },
        }),
      rows,
      (r) =>
        `ok=${r.ok}, ${r.entriesChecked} entries, ${r.residentsChecked} residents${r.firstMismatch ? ` ${JSON.stringify(r.firstMismatch)}` : ''}`,
    );
  } finally {
    await db.close();
    if (process.env['LEDGER_BENCH_KEEP']) progress(`kept ${dataDir}`);
    else rmSync(dataDir, { recursive: true, force: true });
  }
  const width = Math.max(...rows.map((r) => r.step.length));
  process.stdout.write(`\n${'step'.padEnd(width)}  ${'seconds'.padStart(8)}  ${'RSS MB'.padStart(7)}  result\n`);
  for (const r of rows) {
    process.stdout.write(`${r.step.padEnd(width)}  ${r.seconds.toFixed(2).padStart(8)}  ${String(r.rssMb).padStart(7)}  ${r.note}\n`);
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
