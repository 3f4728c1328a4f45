import { runEmbeddedHarness } from './embedded-harness';

/**
 * For test/housekeeping.e2e-spec.ts: deposits judged on days long past (an
 * event's receivedAt set to its occurredAt), Idempotency-Key answers, then a
 * prune at given cutoffs on a real embedded database. Prints JSON facts.
 */
runEmbeddedHarness('housekeeping', async (p) => {
  const community = await p.communities.create({ name: '海港社区', timezone: 'Asia/Shanghai' });
  const resident = await p.residents.create({ communityId: community.id, name: '王芳' });
  await p.cards.bind('0A0B0C0D', resident.id, { actor: 'staff:test', reason: null });
  await p.devices.create({ id: 'bin-hk', kind: 'bin', communityId: community.id, passwordHash: 'x' });
  // Local days (Asia/Shanghai) 2026-08-10, 2026-10-20, 2026-11-20, at noon there.
  const days = ['2026-08-10', '2026-10-20', '2026-11-20'];
  const acks = await p.ingest.commitBatch(
    days.map((day, i) => {
      const at = new Date(`${day}T04:00:00.000Z`);
      return {
        kind: 'valid' as const,
        deviceId: 'bin-hk',
        receivedAt: at,
        event: {
          eventId: `e-${i}`,
          seq: i,
          occurredAt: at.toISOString(),
          type: 'deposit' as const,
          cardUid: '0A0B0C0D',
          items: [{ kind: 'alkaline' as const, count: 2 }],
          weightGrams: 48,
        },
      };
    }),
  );
  for (const key of ['key-1', 'key-2']) {
    await p.idempotency.claim({ actor: 'staff:test', key, method: 'POST', path: '/x', bodyHash: 'h', staleAfterMs: 60_000 });
  }
  const nothingYet = await p.housekeeping.prune({
    idempotencyBefore: new Date('2000-01-01T00:00:00.000Z'),
    dayTalliesBefore: '2026-01-01',
    monthTalliesBefore: '2026-01-01',
  });
  const pruned = await p.housekeeping.prune({
    idempotencyBefore: new Date(Date.now() + 60_000),
    dayTalliesBefore: '2026-10-21',
    monthTalliesBefore: '2026-10-01',
  });
  const again = await p.housekeeping.prune({
    idempotencyBefore: new Date(Date.now() + 60_000),
    dayTalliesBefore: '2026-10-21',
    monthTalliesBefore: '2026-10-01',
  });
  const longestClaimWindowDays = await p.housekeeping.longestClaimWindowDays();
  const balance = (await p.residents.find(resident.id))!.balance;
  const keyLeft = await p.idempotency.find('staff:test', 'key-2');
  return { acks: acks.map((a) => JSON.parse(a.ack)), nothingYet, pruned, again, longestClaimWindowDays, balance, keyLeft };
});
