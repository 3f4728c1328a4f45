import type { ActivityPosting, CardHolder, EventOutcome } from '../judge-event';
import type { TapDecision } from './check-in';
import { tapDisplay } from './check-in-display';

/**
 * The ack of a terminal tap: credited (points posted now, 0 for an hours-mode
 * check-in), pending `needs-review` (the activity's points wait for an
 * organiser), or rejected with the refusal's reason.
 */
export function checkInOutcome(decision: TapDecision, postings: readonly ActivityPosting[], holder: CardHolder): EventOutcome {
  const posted = postings.filter((p) => p.kind === 'posted').reduce((sum, p) => sum + p.amount, 0);
  const pending = postings.filter((p) => p.kind === 'pending').reduce((sum, p) => sum + p.amount, 0);
  const base = { creditPoints: 0, residentId: holder.residentId };
  if (decision.kind === 'refused') {
    return {
      ...base,
      result: 'rejected',
      reason: decision.reason,
      points: 0,
      balanceAfter: holder.balance,
      display: tapDisplay(decision, holder.name, false),
    };
  }
  const isPending = pending > 0 && posted === 0;
  return {
    ...base,
    result: isPending ? 'pending' : 'credited',
    ...(isPending ? { reason: 'needs-review' as const } : {}),
    points: posted + pending,
    creditPoints: posted,
    ...(pending > 0 ? { pendingPoints: pending } : {}),
    balanceAfter: holder.balance + posted,
    display: tapDisplay(decision, holder.name, isPending),
    postings: [...postings],
  };
}
