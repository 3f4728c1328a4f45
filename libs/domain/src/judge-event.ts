import type { Ack, AckReason, DeviceEvent, Display } from '../../protocol/src';
import { type DepositPointsPerUnit, depositPoints } from './deposit-points';
import { REASON_DISPLAY, balanceDisplay, creditedDisplay, pendingUnknownCardDisplay } from './display-lines';
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
  residentId: string | null;
  balanceAfter: number | null;
  display: Display;
}

export interface JudgeEventInput {
  event: DeviceEvent;
  device: JudgedDevice;
  /** null when the card is bound to nobody (or to a resident of another community). */
  holder: CardHolder | null;
  rates: Readonly<DepositPointsPerUnit>;
  time: EventTime;
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
export function judgeEvent({ event, device, holder, rates, time }: JudgeEventInput): EventOutcome {
  if (!device.isActive) return rejectedOutcome('device-inactive');
  // Never show (or store) another community's resident or balance on this device.
  const localHolder = holder && holder.communityId === device.communityId ? holder : null;
  if (time.kind === 'too-late') return rejectedOutcome('too-late', localHolder);
  if (localHolder?.isBlocked) return rejectedOutcome('card-blocked', localHolder);

  switch (event.type) {
    case 'deposit': {
      if (device.kind !== 'bin') return rejectedOutcome('unsupported-event', localHolder);
      const points = depositPoints(event.items, rates);
      if (!localHolder) {
        return {
          result: 'pending',
          reason: 'unknown-card',
          points,
          creditPoints: 0,
          residentId: null,
          balanceAfter: null,
          display: pendingUnknownCardDisplay(points),
        };
      }
      const balanceAfter = localHolder.balance + points;
      return {
        result: 'credited',
        points,
        creditPoints: points,
        residentId: localHolder.residentId,
        balanceAfter,
        display: creditedDisplay(points, balanceAfter),
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
      // Activities and check-in come with the activities issue; until then no
      // terminal has an open activity, which is what the resident is told.
      if (device.kind === 'terminal') return rejectedOutcome('no-open-activity', localHolder);
      return rejectedOutcome('unsupported-event', localHolder);
    }
    default: {
      const unreachable: never = event;
      return unreachable;
    }
  }
}
