import { implicitRules } from './bins/points-rules';
import { ACK_REASONS, type DepositEvent, type DeviceEvent, type TapEvent } from '../../protocol/src';
import { DEFAULT_DEPOSIT_POINTS_PER_UNIT, type DepositPointsPerUnit } from './deposit-points';
import { REASON_DISPLAY } from './display-lines';
import type { EventTime } from './event-time';
import {
  type CardHolder,
  type DeviceKind,
  type EventOutcome,
  type JudgeEventInput,
  type JudgedDevice,
  judgeEvent,
  rejectedOutcome,
} from './judge-event';

const HOME = 'community-home';
const ELSEWHERE = 'community-elsewhere';

const deposit: DepositEvent = {
  eventId: '01JD3K8Q4Z6W2X9Y7V5T3R1P0N',
  seq: 42,
  occurredAt: '2026-11-23T08:15:30.123Z',
  type: 'deposit',
  cardUid: '04A1B2C3D4E5F6',
  // 3 alkaline (3 × 1) + 2 lithium (2 × 3) = 9 points at the default rates.
  items: [
    { kind: 'alkaline', count: 3 },
    { kind: 'lithium', count: 2 },
  ],
  weightGrams: 68.5,
};
const DEPOSIT_POINTS = 9;

const tap: TapEvent = {
  eventId: 'boot-7f3a-000131',
  seq: 131,
  occurredAt: '2026-11-23T09:00:00.000Z',
  type: 'tap',
  cardUid: 'A1B2C3D4',
};

const localHolder: CardHolder = { residentId: 'resident-local', communityId: HOME, balance: 120 };
const foreignHolder: CardHolder = { residentId: 'resident-foreign', communityId: ELSEWHERE, balance: 777 };

const onTime: EventTime = { kind: 'on-time', occurredAt: new Date(deposit.occurredAt), isClockAhead: false };
const tooLate: EventTime = { kind: 'too-late', occurredAt: new Date('2026-11-01T00:00:00.000Z') };

const device = (kind: DeviceKind, isActive = true): JudgedDevice => ({ kind, communityId: HOME, isActive });

function judge(overrides: Partial<JudgeEventInput> & Pick<JudgeEventInput, 'event' | 'device'>): EventOutcome {
  return judgeEvent({ holder: localHolder, rules: implicitRules(DEFAULT_DEPOSIT_POINTS_PER_UNIT), time: onTime, ...overrides });
}

describe('judgeEvent', () => {
  describe('a deposit at a bin', () => {
    it('credits a known local card with the points from the rates and the balance after them', () => {
      expect(judge({ event: deposit, device: device('bin') })).toEqual({
        result: 'credited',
        points: DEPOSIT_POINTS,
        creditPoints: DEPOSIT_POINTS,
        residentId: 'resident-local',
        balanceAfter: 120 + DEPOSIT_POINTS,
        display: expect.any(Object),
        deposit: { worth: DEPOSIT_POINTS, points: DEPOSIT_POINTS, batteries: 5, isCapped: false, review: null, isWeightMissing: false },
      });
    });

    it('rejects a deposit with a blocked (lost or replaced) card as card-blocked and credits nothing', () => {
      expect(judge({ event: deposit, device: device('bin'), holder: { ...localHolder, isBlocked: true } })).toMatchObject({
        result: 'rejected',
        reason: 'card-blocked',
        points: 0,
        creditPoints: 0,
        residentId: 'resident-local',
      });
    });

    it('still credits a deposit at a full bin and says the bin is full on both lines', () => {
      const outcome = judge({ event: deposit, device: device('bin'), isBinFull: true });
      expect(outcome).toMatchObject({ result: 'credited', points: DEPOSIT_POINTS });
      expect(outcome.display.zh).toContain('箱已满');
      expect(outcome.display.en).toContain('Bin full');
      expect(outcome.display.zh).toContain(`+${DEPOSIT_POINTS}`);
    });

    it('has no reason when credited', () => {
      expect(judge({ event: deposit, device: device('bin') })).not.toHaveProperty('reason');
    });

    it("uses the community's own rates instead of the defaults", () => {
      const rates: DepositPointsPerUnit = { ...DEFAULT_DEPOSIT_POINTS_PER_UNIT, alkaline: 10, lithium: 100 };
      const outcome = judge({ event: deposit, device: device('bin'), rules: implicitRules(rates) });
      expect(outcome.points).toBe(3 * 10 + 2 * 100);
      expect(outcome.balanceAfter).toBe(120 + 230);
    });

    it.each<[string, CardHolder | null]>([
      ['bound to nobody', null],
      ['bound to a resident of another community', foreignHolder],
    ])('holds the deposit as pending/unknown-card with what it is worth when the card is %s', (_, holder) => {
      expect(judge({ event: deposit, device: device('bin'), holder })).toEqual({
        result: 'pending',
        reason: 'unknown-card',
        points: DEPOSIT_POINTS,
        creditPoints: 0,
        residentId: null,
        balanceAfter: null,
        display: expect.any(Object),
        deposit: expect.objectContaining({ worth: DEPOSIT_POINTS, batteries: 5 }),
      });
    });

    it('tells the holder of an unknown card how many points they can claim', () => {
      const { display } = judge({ event: deposit, device: device('bin'), holder: null });
      expect(display.zh).toContain(String(DEPOSIT_POINTS));
      expect(display.en).toContain(String(DEPOSIT_POINTS));
    });
  });

  describe.each<[string, DeviceEvent]>([
    ['deposit', deposit],
    ['tap', tap],
  ])('a %s from an inactive device', (_, event) => {
    it.each<[string, CardHolder | null, EventTime]>([
      ['a known card on time', localHolder, onTime],
      ['an unknown card', null, onTime],
      ['a known card too late', localHolder, tooLate],
      ['a foreign card', foreignHolder, onTime],
    ])('is rejected as device-inactive before anything else, even with %s', (__, holder, time) => {
      for (const kind of ['bin', 'terminal', 'counter'] as const) {
        expect(judge({ event, device: device(kind, false), holder, time })).toEqual(rejectedOutcome('device-inactive'));
      }
    });
  });

  describe('an event from a clock more than a day ahead', () => {
    const clockAhead: EventTime = { kind: 'clock-ahead', occurredAt: new Date('2099-01-01T00:00:00.000Z') };
    it.each<[string, DeviceEvent, DeviceKind]>([
      ['deposit at a bin', deposit, 'bin'],
      ['tap at a counter', tap, 'counter'],
    ])('rejects a %s as clock-ahead with no points', (_, event, kind) => {
      expect(judge({ event, device: device(kind), time: clockAhead })).toMatchObject({
        result: 'rejected',
        reason: 'clock-ahead',
        points: 0,
        creditPoints: 0,
        display: REASON_DISPLAY['clock-ahead'],
      });
    });
  });

  describe('an event older than the lateness window', () => {
    it.each<[string, DeviceEvent, DeviceKind]>([
      ['deposit at a bin', deposit, 'bin'],
      ['tap at a counter', tap, 'counter'],
      ['tap at a terminal', tap, 'terminal'],
    ])('rejects a %s as too-late with no points, showing the local balance', (_, event, kind) => {
      expect(judge({ event, device: device(kind), time: tooLate })).toEqual({
        result: 'rejected',
        reason: 'too-late',
        points: 0,
        creditPoints: 0,
        residentId: 'resident-local',
        balanceAfter: 120,
        display: REASON_DISPLAY['too-late'],
      });
    });

    it('rejects a deposit from an unknown card as too-late rather than pending', () => {
      expect(judge({ event: deposit, device: device('bin'), holder: null, time: tooLate })).toMatchObject({
        result: 'rejected',
        reason: 'too-late',
        points: 0,
        balanceAfter: null,
      });
    });

    // Regression: the too-late branch once passed the raw holder, showing another community's
    // resident and balance on this community's device.
    it('treats a card from another community as unknown: no resident and no balance', () => {
      expect(judge({ event: deposit, device: device('bin'), holder: foreignHolder, time: tooLate })).toEqual(
        rejectedOutcome('too-late', null),
      );
    });
  });

  describe('a deposit from a device that is not a bin', () => {
    it.each<DeviceKind>(['terminal', 'counter'])('is rejected as unsupported-event at a %s', (kind) => {
      expect(judge({ event: deposit, device: device(kind) })).toEqual({
        result: 'rejected',
        reason: 'unsupported-event',
        points: 0,
        creditPoints: 0,
        residentId: 'resident-local',
        balanceAfter: 120,
        display: REASON_DISPLAY['unsupported-event'],
      });
    });

    it('posts nothing and shows no foreign balance for a card of another community', () => {
      expect(judge({ event: deposit, device: device('terminal'), holder: foreignHolder })).toEqual(
        rejectedOutcome('unsupported-event', null),
      );
    });
  });

  describe('a tap', () => {
    it('at a counter credits 0 points and shows the current balance', () => {
      expect(judge({ event: tap, device: device('counter') })).toEqual({
        result: 'credited',
        points: 0,
        creditPoints: 0,
        residentId: 'resident-local',
        balanceAfter: 120,
        display: expect.any(Object),
      });
    });

    it('at a counter shows the balance on both display lines', () => {
      const { display } = judge({ event: tap, device: device('counter') });
      expect(display.zh).toContain('120');
      expect(display.en).toContain('120');
    });

    it('at a counter shows the holder’s name masked', () => {
      const { display } = judge({ event: tap, device: device('counter'), holder: { ...localHolder, name: '张三丰' } });
      expect(display.zh).toContain('张*丰');
      expect(display.zh).not.toContain('三');
      expect(display.en).toContain('张*丰');
    });

    it.each<DeviceKind>(['counter', 'terminal'])('with a card reported lost is rejected card-blocked at a %s', (kind) => {
      expect(judge({ event: tap, device: device(kind), holder: { ...localHolder, isBlocked: true } })).toMatchObject({
        result: 'rejected',
        reason: 'card-blocked',
        creditPoints: 0,
        display: REASON_DISPLAY['card-blocked'],
      });
    });

    it('at a terminal is rejected: no activity is open yet', () => {
      expect(judge({ event: tap, device: device('terminal') })).toEqual(rejectedOutcome('no-open-activity', localHolder));
    });

    it('at a bin is rejected as unsupported-event', () => {
      expect(judge({ event: tap, device: device('bin') })).toEqual(rejectedOutcome('unsupported-event', localHolder));
    });

    it.each<[string, CardHolder | null, DeviceKind]>([
      ['an unknown card at a counter', null, 'counter'],
      ['an unknown card at a terminal', null, 'terminal'],
      ['a card of another community at a counter', foreignHolder, 'counter'],
      ['a card of another community at a terminal', foreignHolder, 'terminal'],
    ])('with %s is rejected as unknown-card with no balance', (_, holder, kind) => {
      expect(judge({ event: tap, device: device(kind), holder })).toEqual({
        result: 'rejected',
        reason: 'unknown-card',
        points: 0,
        creditPoints: 0,
        residentId: null,
        balanceAfter: null,
        display: REASON_DISPLAY['unknown-card'],
      });
    });
  });

  describe('display lines', () => {
    const cases: [string, JudgeEventInput][] = [
      [
        'credited deposit',
        { event: deposit, device: device('bin'), holder: localHolder, rules: implicitRules(DEFAULT_DEPOSIT_POINTS_PER_UNIT), time: onTime },
      ],
      [
        'pending deposit',
        { event: deposit, device: device('bin'), holder: null, rules: implicitRules(DEFAULT_DEPOSIT_POINTS_PER_UNIT), time: onTime },
      ],
      [
        'counter tap',
        { event: tap, device: device('counter'), holder: localHolder, rules: implicitRules(DEFAULT_DEPOSIT_POINTS_PER_UNIT), time: onTime },
      ],
      [
        'terminal tap',
        {
          event: tap,
          device: device('terminal'),
          holder: localHolder,
          rules: implicitRules(DEFAULT_DEPOSIT_POINTS_PER_UNIT),
          time: onTime,
        },
      ],
      [
        'unknown tap',
        { event: tap, device: device('counter'), holder: null, rules: implicitRules(DEFAULT_DEPOSIT_POINTS_PER_UNIT), time: onTime },
      ],
      [
        'too-late',
        {
          event: deposit,
          device: device('bin'),
          holder: localHolder,
          rules: implicitRules(DEFAULT_DEPOSIT_POINTS_PER_UNIT),
          time: tooLate,
        },
      ],
      [
        'inactive',
        {
          event: deposit,
          device: device('bin', false),
          holder: localHolder,
          rules: implicitRules(DEFAULT_DEPOSIT_POINTS_PER_UNIT),
          time: onTime,
        },
      ],
    ];

    it.each(cases)('has a Chinese and an English line for a %s, each within 120 characters', (_, input) => {
      const { display } = judgeEvent(input);
      expect(display.zh.trim()).not.toBe('');
      expect(display.en.trim()).not.toBe('');
      expect(display.zh).toMatch(/[\u4e00-\u9fff]/);
      expect(display.en).toMatch(/^[\x20-\x7e]+$/);
      expect(display.zh.length).toBeLessThanOrEqual(120);
      expect(display.en.length).toBeLessThanOrEqual(120);
    });

    it('shows the points and the new balance on both lines of a credited deposit', () => {
      const holder: CardHolder = { ...localHolder, balance: 4321 };
      const { display } = judge({ event: deposit, device: device('bin'), holder });
      for (const line of [display.zh, display.en]) {
        expect(line).toContain(`+${DEPOSIT_POINTS}`);
        expect(line).toContain(String(4321 + DEPOSIT_POINTS));
      }
    });
  });
});

describe('rejectedOutcome', () => {
  it.each(ACK_REASONS)('rejects with %s, no points and that reason’s display lines', (reason) => {
    expect(rejectedOutcome(reason)).toEqual({
      result: 'rejected',
      reason,
      points: 0,
      creditPoints: 0,
      residentId: null,
      balanceAfter: null,
      display: REASON_DISPLAY[reason],
    });
  });

  it('shows the holder and their unchanged balance when one is given', () => {
    expect(rejectedOutcome('cap-reached', localHolder)).toMatchObject({
      residentId: 'resident-local',
      balanceAfter: 120,
      points: 0,
      creditPoints: 0,
    });
  });

  it('has non-empty Chinese and English lines for every reason', () => {
    for (const reason of ACK_REASONS) {
      const { display } = rejectedOutcome(reason);
      expect(display.zh).not.toBe('');
      expect(display.en).not.toBe('');
    }
  });
});
