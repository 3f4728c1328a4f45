import { PROTOCOL_RESEND_POLICY, resendDelayMs } from './resend-policy';

describe('resendDelayMs', () => {
  const noJitter = { ...PROTOCOL_RESEND_POLICY, jitter: 0 };

  it('waits 10 s after the first publish and doubles after each resend', () => {
    expect([1, 2, 3, 4].map((n) => resendDelayMs(noJitter, n))).toEqual([10_000, 20_000, 40_000, 80_000]);
  });

  it('never waits more than 5 minutes, jitter included', () => {
    expect(resendDelayMs(noJitter, 20)).toBe(300_000);
    expect(resendDelayMs(PROTOCOL_RESEND_POLICY, 20, 0.999)).toBe(300_000);
    expect(resendDelayMs(PROTOCOL_RESEND_POLICY, 20, 0)).toBe(270_000);
  });

  it('spreads the wait by the jitter fraction', () => {
    expect(resendDelayMs(PROTOCOL_RESEND_POLICY, 1, 0)).toBe(9_000);
    expect(resendDelayMs(PROTOCOL_RESEND_POLICY, 1, 0.5)).toBe(10_000);
  });
});
