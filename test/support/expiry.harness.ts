import { accountName, residentAccount, systemAccount } from '../../libs/domain/src';
import { runEmbeddedHarness } from './embedded-harness';

/**
 * For test/expiry.e2e-spec.ts: points expiry needs time to pass, so this runs
 * the expiry repository on a real embedded database with `now` moved forward
 * (PGlite cannot load inside jest on Node 20). Prints JSON facts.
 */
runEmbeddedHarness('expiry', async (p) => {
  const community = await p.communities.create({ name: '海港社区', timezone: 'Asia/Shanghai' });
  const resident = await p.residents.create({ communityId: community.id, name: '王芳' });
  const move = (amount: number, out: boolean, key: string) => ({
    communityId: community.id,
    kind: 'posted' as const,
    debitAccount: out ? accountName(residentAccount(resident.id)) : accountName(systemAccount('issuance', community.id)),
    creditAccount: out ? accountName(systemAccount('supermarket', community.id)) : accountName(residentAccount(resident.id)),
    amount,
    source: out ? ('redemption' as const) : ('manual' as const),
    pendingEntryId: null,
    reversesEntryId: null,
    idempotencyKey: key,
    actor: 'staff:test',
    reason: null,
  });
  await p.ledger.post([move(10, false, 'earn-1')]);
  await p.ledger.post([move(4, true, 'spend-1')]);
  const now = Date.now();
  const later = (days: number) => new Date(now + days * 86_400_000);

  const beforePolicy = await p.expiry.run(community.id, later(400));
  await p.expiry.setPolicy(community.id, { kind: 'months', months: 6 });
  const preview = await p.expiry.residentExpiry(resident.id, later(1));
  const early = await p.expiry.run(community.id, later(30));
  const due = await p.expiry.run(community.id, later(200));
  const again = await p.expiry.run(community.id, later(201));
  const balance = (await p.residents.find(resident.id))!.balance;
  const ledger = await p.residents.ledger(resident.id, 10);
  const verify = await p.ledger.verify({ communityId: community.id });
  return { beforePolicy, preview, early, due, again, balance, ledger, verify, now };
});
