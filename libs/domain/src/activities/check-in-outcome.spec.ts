import { ackSchema } from '../../../protocol/src';
import { buildAck } from '../ack';
import type { ActivityRule } from './activity';
import { judgeTap } from './check-in';
import { checkInOutcome } from './check-in-outcome';

const at = (hhmm: string) => new Date(`2026-11-28T${hhmm}:00+08:00`);
const activity: ActivityRule = {
  id: 'a',
  communityId: 'c',
  siteId: 's',
  title: '文明劝导',
  startsAt: at('09:00'),
  endsAt: at('11:00'),
  opensBeforeMinutes: 30,
  closesAfterMinutes: 15,
  checkOutGraceMinutes: 30,
  capacity: null,
  policy: { kind: 'attendance', points: 6 },
  requiresReview: false,
  autoClose: 'credit-to-end',
  debounceSeconds: 60,
};
const holder = { residentId: 'r', communityId: 'c', balance: 10, name: '李四' };
const decide = (a: ActivityRule, t: string) =>
  judgeTap({
    residentId: 'r',
    siteId: 's',
    at: at(t),
    activities: [a],
    attendances: new Map(),
    openElsewhere: [],
    counts: new Map(),
    newId: () => 'att',
  });

describe('the ack of a terminal tap', () => {
  it.each<[string, ActivityRule, string, { kind: 'posted' | 'pending'; amount: number }[], object]>([
    ['credited at check-in', activity, '09:00', [{ kind: 'posted', amount: 6 }], { result: 'credited', points: 6, balance: 16 }],
    [
      'pending review: the balance stays',
      { ...activity, requiresReview: true },
      '09:00',
      [{ kind: 'pending', amount: 6 }],
      { result: 'pending', reason: 'needs-review', points: 6, balance: 10 },
    ],
    [
      'refused before the window, with the balance',
      activity,
      '08:00',
      [],
      { result: 'rejected', reason: 'no-open-activity', points: 0, balance: 10 },
    ],
  ])('%s', (_, a, t, postings, expected) => {
    const outcome = checkInOutcome(
      decide(a, t),
      postings.map((p) => ({ ...p, idempotencyKey: 'k', reason: null })),
      holder,
    );
    const ack = buildAck('e1', outcome);
    expect(ack).toMatchObject(expected);
    // Every ack a terminal gets passes the protocol's own schema (reason rules, 0 points when rejected).
    expect(ackSchema.safeParse(ack).success).toBe(true);
  });
});
