import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DomainError } from '../../libs/domain/src';
import { openDatabase } from '../../libs/persistence/src/database';
import { LedgerRepository } from '../../libs/persistence/src/ledger/ledger.repository';
import { CommunityRepository } from '../../libs/persistence/src/registry/community.repository';
import { ResidentRepository } from '../../libs/persistence/src/registry/resident.repository';
import { SupermarketRepository } from '../../libs/persistence/src/supermarket/supermarket.repository';

/**
 * For test/supermarket-clock.e2e-spec.ts (PGlite loads its WASM through a
 * dynamic import, which jest cannot run on Node 20): what depends on the clock,
 * with the clock set by the script — the cancel window, and the gift limit's day
 * in the community's time zone. Prints each step's outcome as JSON.
 */
async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'jifen-supermarket-'));
  const db = await openDatabase({ dataDir: dir });
  const out: Record<string, unknown> = {};
  const outcome = async (p: Promise<unknown>) => {
    try {
      return { ok: true, value: await p };
    } catch (err) {
      if (err instanceof DomainError) return { ok: false, code: err.code, message: err.message, details: err.details };
      throw err;
    }
  };
  try {
    let now = Date.parse('2026-03-01T15:00:00Z'); // 23:00 in Shanghai
    const ledger = new LedgerRepository(db, () => now);
    const supermarket = new SupermarketRepository(db, ledger, () => now);
    const communityId = (await new CommunityRepository(db.prisma).create({ name: '滨海社区', timezone: 'Asia/Shanghai' })).id;
    const residents: string[] = [];
    for (const name of ['张三丰', '李四']) {
      const r = await new ResidentRepository(db.prisma).create({ communityId, name });
      residents.push(r.id);
      await ledger.credit({ residentId: r.id, amount: 500, reason: 'opening', actor: 'test', idempotencyKey: `open:${r.id}` });
    }

    // The cancel window (30 minutes by default).
    const towel = await supermarket.createItem({ communityId, name: 'towel', pricePoints: 10, stock: 10 });
    const order = async (key: string) =>
      (
        await supermarket.redeem({
          communityId,
          residentId: residents[0]!,
          lines: [{ itemId: towel.id, quantity: 1 }],
          actor: 't',
          idempotencyKey: key,
        })
      ).order;
    const early = await order('o1');
    out['orderedAt'] = new Date(now).toISOString();
    out['cancellableUntil'] = early.cancellableUntil;
    now += 29 * 60_000;
    out['cancelAfter29Minutes'] = await outcome(supermarket.cancel({ orderId: early.id, reason: 'r', actor: 't' }));
    const late = await order('o2');
    now += 31 * 60_000;
    out['cancelAfter31Minutes'] = await outcome(supermarket.cancel({ orderId: late.id, reason: 'r', actor: 't' }));
    out['lateOrderStatus'] = (await supermarket.findOrder(late.id))!.status;
    out['towelStock'] = (await supermarket.findItem(towel.id))!.stock;

    // The gift limit (100 a day) by the Shanghai day.
    const give = (amount: number, key: string) =>
      supermarket.gift({ fromResidentId: residents[0]!, toResidentId: residents[1]!, amount, note: null, actor: 't', idempotencyKey: key });
    now = Date.parse('2026-03-02T15:30:00Z'); // 23:30 on 2 March in Shanghai
    out['gift100'] = await outcome(give(100, 'g1'));
    out['gift1More'] = await outcome(give(1, 'g2'));
    now = Date.parse('2026-03-02T16:00:00Z'); // 00:00 on 3 March in Shanghai, still 2 March in UTC
    out['giftNextDay'] = await outcome(give(40, 'g3'));
    out['giftNextDayRetried'] = await outcome(give(40, 'g3'));
    out['verify'] = await ledger.verify({ communityId });
  } finally {
    await db.close();
    rmSync(dir, { recursive: true, force: true });
  }
  process.stdout.write(JSON.stringify(out));
}

void main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
