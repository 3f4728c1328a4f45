import type { Ack, AckReason, DeviceEvent, Display } from '../../protocol/src';
import { type DepositJudgement, type DepositTally, EMPTY_TALLY, type PointsRules, judgeDeposit } from './bins/points-rules';
import {
  REASON_DISPLAY,
  balanceDisplay,
  capReachedDisplay,
  withBinFull,
  collectionDisplay,
  creditedDisplay,
  needsReviewDisplay,
  pendingUnknownCardDisplay,
} from './display-lines';
import type { EventTime } from './event-time';

export type DeviceKind = 'bin' | 'terminal' | 'counter';

export interface JudgedDevice {
  kind: DeviceKind;
  communityId: string;
  isActive: boolean;
}

/** The resident a card is bound to, with the balance as it stands before this event. */
export interface CardHolder {
  residentId: string;
  communityId: string;
  balance: number;
  /** Shown masked on a counter reader's display. */
  name?: string;
  /** Reported lost, or replaced by a new card: taps and deposits are refused (and kept). */
  isBlocked?: boolean;
}

export interface EventOutcome {
  result: Ack['result'];
  reason?: AckReason;
  /** Points shown in the ack: credited, or what a pending event is worth. */
  points: number;
  /** Points to post to the ledger now (0 unless credited). */
  creditPoints: number;
  /** Points to post as pending, for a credit administrator's review (a deposit whose count and weight disagree). */
  pendingPoints?: number;
  /** Why it needs review: the evidence, shown in the review queue. */
  review?: string;
  /** A deposit judged under the points rules: batteries and points for the caps' tallies, flags. */
  deposit?: DepositJudgement;
  residentId: string | null;
  balanceAfter: number | null;
  display: Display;
  /**
   * Check-in points to post instead of creditPoints/pendingPoints: a tap may add
   * points to two attendances (closing one at another site), each its own entry.
   */
  postings?: ActivityPosting[];
}

export interface ActivityPosting {
  kind: 'posted' | 'pending';
  amount: number;
  /** `attendance:<id>:<points due after>`: unique, and finds an attendance's pending entries for review. */
  idempotencyKey: string;
  reason: string | null;
}

export interface JudgeEventInput {
  event: DeviceEvent;
  device: JudgedDevice;
  /** null when the card is bound to nobody (or to a resident of another community). */
  holder: CardHolder | null;
  /** The community's rules version in force at the event's time. */
  rules: PointsRules;
  /** The holder's deposits earlier in the event's local day and month. */
  tally?: DepositTally;
  /** The bin is full: the deposit is acked as usual (the batteries are inside), and the display says so. */
  isBinFull?: boolean;
  time: EventTime;
  /**
   * A terminal tap's check-in, judged by the caller (it holds the activities and
   * the resident's attendance state); absent: no activity is open at the site.
   */
  checkIn?: (holder: CardHolder) => EventOutcome;
}

export function rejectedOutcome(reason: AckReason, holder: CardHolder | null = null): EventOutcome {
  return {
    result: 'rejected',
    reason,
    points: 0,
    creditPoints: 0,
    residentId: holder?.residentId ?? null,
    balanceAfter: holder?.balance ?? null,
    display: REASON_DISPLAY[reason],
  };
}

/**
 * What one valid event from a registered device means. Pure: the caller has
 * locked the holder's balance row, so `holder.balance` is current, and applies the
 * outcome in the same transaction.
 *
 * A card bound in another community counts as unknown here: points are that
 * community's programme, and the deposit is held so it can be claimed later.
 */
export function judgeEvent(input: JudgeEventInput): EventOutcome {
  const outcome = judgeWithoutFill(input);
  return input.isBinFull && input.event.type === 'deposit' ? { ...outcome, display: withBinFull(outcome.display) } : outcome;
}

function judgeWithoutFill({ event, device, holder, rules, tally, time, checkIn }: JudgeEventInput): EventOutcome {
  if (!device.isActive) return rejectedOutcome('device-inactive');
  // Never show (or store) another community's resident or balance on this device.
  const localHolder = holder && holder.communityId === device.communityId ? holder : null;
  if (time.kind !== 'on-time') return rejectedOutcome(time.kind, localHolder);
  if (localHolder?.isBlocked) return rejectedOutcome('card-blocked', localHolder);

  switch (event.type) {
    case 'deposit': {
      if (device.kind !== 'bin') return rejectedOutcome('unsupported-event', localHolder);
      const deposit = judgeDeposit(rules, event, tally ?? EMPTY_TALLY);
      if (!localHolder) {
        // Held for whoever binds the card: worth what the rules say now, caps applied when claimed.
        return {
          result: 'pending',
          reason: 'unknown-card',
          points: deposit.worth,
          creditPoints: 0,
          residentId: null,
          balanceAfter: null,
          display: pendingUnknownCardDisplay(deposit.worth),
          deposit,
        };
      }
      if (deposit.review !== null) {
        return {
          result: 'pending',
          reason: 'needs-review',
          points: deposit.points,
          creditPoints: 0,
          pendingPoints: deposit.points,
          review: deposit.review,
          residentId: localHolder.residentId,
          balanceAfter: localHolder.balance,
          display: needsReviewDisplay(deposit.points),
          deposit,
        };
      }
      const balanceAfter = localHolder.balance + deposit.points;
      return {
        result: 'credited',
        ...(deposit.isCapped ? { reason: 'cap-reached' as const } : {}),
        points: deposit.points,
        creditPoints: deposit.points,
        residentId: localHolder.residentId,
        balanceAfter,
        display: deposit.isCapped ? capReachedDisplay(deposit.points, balanceAfter) : creditedDisplay(deposit.points, balanceAfter),
        deposit,
      };
    }
    case 'tap': {
      if (!localHolder) return rejectedOutcome('unknown-card');
      // A counter tap identifies the resident for the supermarket clerk.
      if (device.kind === 'counter') {
        return {
          result: 'credited',
          points: 0,
          creditPoints: 0,
          residentId: localHolder.residentId,
          balanceAfter: localHolder.balance,
          display: balanceDisplay(localHolder.balance, localHolder.name),
        };
      }
      // A terminal's tap resolves to the open activity at its site (libs/domain/src/activities/check-in.ts).
      if (device.kind === 'terminal') return checkIn ? checkIn(localHolder) : rejectedOutcome('no-open-activity', localHolder);
      return rejectedOutcome('unsupported-event', localHolder);
    }
    case 'collection': {
      // Staff emptied the bin (its door sensor says so): recorded, no points, no resident.
      if (device.kind !== 'bin') return rejectedOutcome('unsupported-event');
      return { result: 'credited', points: 0, creditPoints: 0, residentId: null, balanceAfter: null, display: collectionDisplay() };
    }
    default: {
      const unreachable: never = event;
      return unreachable;
    }
  }
}
