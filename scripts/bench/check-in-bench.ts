import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Database, type IngestItem, IngestRepository, openDatabase, repositoriesOver } from '../../libs/persistence/src';
import { positiveArg } from './cli-args';

/**
 * `node dist/scripts/bench/check-in-bench.js [batch] [rounds]`: terminal taps
 * through the ingest repository on the embedded database, without MQTT, next to
 * deposits in batches of the same size. Every resident taps again and again two
 * minutes or more apart (a check-in, then check-outs that move), so every tap changes an
 * attendance and most post points. Prints taps/s and the statements a batch
 * runs: a constant count shows the hot path has no per-event query.
 * Figures go to stdout, progress to stderr.
 */
const USAGE = 'usage: node dist/scripts/bench/check-in-bench.js [batch events, default 200] [rounds, default 60]';
const RESIDENTS = 2000;
const MIN = 60_000;

function countingDatabase(db: Database, counts: { statements: number }): Database {
  return {
    ...db,
    transaction: (fn) =>
      db.transaction((query) =>
        fn((sql, params) => {
          counts.statements += 1;
          return query(sql, params);
        }),
      ),
  };
}

async function main(): Promise<void> {
  const batch = positiveArg(process.argv[2], 200, USAGE);
  const rounds = positiveArg(process.argv[3], 60, USAGE);
  const perResident = Math.ceil((batch * rounds) / RESIDENTS);
  if (perResident > 30)
    throw new Error(`at most ${30 * RESIDENTS} taps (each resident's taps at least 2 min apart within the hour)\n${USAGE}`);
  // Each resident's taps spread over the hour since the start (so check-outs earn points), at least 2 min apart.
  const spacingMs = Math.max(2, Math.floor(60 / perResident)) * MIN;
  const dir = mkdtempSync(join(tmpdir(), 'jifen-checkin-bench-'));
  const db = await openDatabase({ dataDir: dir });
  try {
    const registry = repositoriesOver(db, { dataDir: dir });
    const counts = { statements: 0 };
    const ingest = new IngestRepository(countingDatabase(db, counts));
    process.stderr.write(`setting up ${RESIDENTS} residents with cards, a site with two terminals, a bin, an hours activity in ${dir}\n`);
    const community = await registry.communities.create({ name: 'bench', timezone: 'Asia/Shanghai' });
    const uids: string[] = [];
    for (let r = 0; r < RESIDENTS; r++) {
      const resident = await registry.residents.create({ communityId: community.id, name: `居民${r}` });
      const uid = (0x20000000 + r).toString(16).toUpperCase();
      await registry.residents.bindCard(resident.id, uid);
      uids.push(uid);
      if (r % 500 === 499) process.stderr.write(`  ${r + 1}/${RESIDENTS} residents\n`);
    }
    for (const id of ['term-a', 'term-b'])
      await registry.devices.create({ id, kind: 'terminal', communityId: community.id, passwordHash: 'not-used' });
    await registry.devices.create({ id: 'bin-1', kind: 'bin', communityId: community.id, passwordHash: 'not-used' });
    const site = await registry.activitySites.createSite({ communityId: community.id, name: 'bench site' });
    await registry.activitySites.assignTerminal(site.id, 'term-a');
    await registry.activitySites.assignTerminal(site.id, 'term-b');
    await registry.activitySites.installDefaultCategories(community.id);
    const start = Math.floor(Date.now() / MIN) * MIN - 60 * MIN;
    await registry.activities.create({
      communityId: community.id,
      siteId: site.id,
      categoryCode: 'C05-03',
      title: 'bench',
      startsAt: new Date(start),
      endsAt: new Date(start + 120 * MIN),
      opensBeforeMinutes: 30,
      closesAfterMinutes: 15,
      checkOutGraceMinutes: 30,
      capacity: null,
      policy: { kind: 'hours', pointsPerHour: 10, roundingMinutes: 15, minimumMinutes: 30 },
      requiresReview: false,
      autoClose: 'credit-to-end',
      debounceSeconds: 60,
    });

    let n = 0;
    const phase = async (label: string, make: (k: number) => IngestItem) => {
      const times: number[] = [];
      counts.statements = 0;
      for (let round = 0; round < rounds; round++) {
        const items = Array.from({ length: batch }, () => make(n++));
        const started = performance.now();
        await ingest.commitBatch(items);
        times.push(performance.now() - started);
        if (round % 20 === 19) process.stderr.write(`  ${label}: ${round + 1}/${rounds} batches\n`);
      }
      times.sort((a, b) => a - b);
      const mean = times.reduce((a, b) => a + b, 0) / times.length;
      const at = (q: number) => times[Math.min(times.length - 1, Math.floor(q * times.length))]!.toFixed(1);
      console.log(
        `${label}: ${rounds} × ${batch} events, mean ${mean.toFixed(1)} ms, p50 ${at(0.5)} ms, p99 ${at(0.99)} ms a batch → ${((batch / mean) * 1000).toFixed(0)} events/s; ${(counts.statements / rounds).toFixed(1)} statements a batch`,
      );
    };
    let tap = 0;
    await phase('terminal taps', () => {
      const k = tap++;
      const resident = k % RESIDENTS;
      const round = Math.floor(k / RESIDENTS);
      const now = new Date();
      return {
        kind: 'valid',
        deviceId: k % 2 === 0 ? 'term-a' : 'term-b',
        receivedAt: now,
        event: {
          type: 'tap',
          eventId: `t${k}`,
          seq: k,
          occurredAt: new Date(start - 5 * MIN + round * spacingMs).toISOString(),
          cardUid: uids[resident]!,
        },
      };
    });
    let deposit = 0;
    await phase('deposits (for comparison)', () => {
      const k = deposit++;
      const now = new Date();
      return {
        kind: 'valid',
        deviceId: 'bin-1',
        receivedAt: now,
        event: {
          type: 'deposit',
          eventId: `d${k}`,
          seq: k,
          occurredAt: now.toISOString(),
          cardUid: uids[k % RESIDENTS]!,
          items: [{ kind: 'alkaline', count: 2 }],
          weightGrams: 48,
        },
      };
    });
    const [attendance] = await db.transaction((query) =>
      query<{ rows: number; points: number }>(
        `SELECT count(*)::integer AS rows, coalesce(sum(points), 0)::integer AS points FROM attendance`,
      ),
    );
    console.log(`attendance rows ${attendance?.rows}, points due ${attendance?.points}`);
  } finally {
    await db.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
