/**
 * When an unacked event is published again (shared/PROTOCOL.md, device duty 3):
 * 10 s after the first publish, then doubling, at most 5 min apart. Tests and the
 * simulator pass shorter timings.
 */
export interface ResendPolicy {
  /** Wait after the first publish before the first resend. */
  firstMs: number;
  /** Longest wait between two publishes. */
  maxMs: number;
  /** Each wait is the previous one times this. */
  factor: number;
  /** Spread of each wait, 0..1 (0.2 = ±20 %), so a fleet that lost the link together does not resend together. */
  jitter: number;
}

export const PROTOCOL_RESEND_POLICY: ResendPolicy = { firstMs: 10_000, maxMs: 300_000, factor: 2, jitter: 0.1 };

/** The wait after publish number `attempt` (1 = the first publish). `random` in [0, 1). */
export function resendDelayMs(policy: ResendPolicy, attempt: number, random: number = 0.5): number {
  const base = Math.min(policy.maxMs, policy.firstMs * policy.factor ** Math.max(0, attempt - 1));
  const spread = base * policy.jitter * (random * 2 - 1);
  return Math.max(1, Math.min(policy.maxMs, Math.round(base + spread)));
}
