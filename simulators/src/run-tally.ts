import * as hdr from 'hdr-histogram-js';
import { type AckReceived } from '../../libs/protocol/src/device';

/** What the simulator sent for whom, and what came back: the basis of the report and the balance check. */
export class RunTally {
  sent = 0;
  acked = 0;
  /** Acks for an event already acked (a duplicate publish answered twice): expected, and harmless. */
  repeatedAcks = 0;
  /** Repeated acks whose bytes differ from the first: the gateway broke its promise. */
  repeatMismatches: string[] = [];
  /** Acks for an event this run never sent. */
  strayAcks = 0;
  invalidAcks = 0;
  /** Residents turned away without an event (a jammed bin). */
  turnedAway = 0;
  refusedByOutbox = 0;
  readonly byOutcome = new Map<string, number>();
  readonly latency = hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 3_600_000, numberOfSignificantValueDigits: 3 });
  /** Points the acks credited to each resident (by resident id). */
  readonly creditedPoints = new Map<string, number>();
  /** Points credited outside acks (held deposits claimed when a card is bound). */
  readonly otherCredits = new Map<string, number>();
  private readonly inFlight = new Map<string, { residentId: string | null }>();
  private windowAcks = 0;
  private windowStart = Date.now();
  private lastRate = 0;

  noteSent(deviceId: string, eventId: string, residentId: string | null): void {
    this.sent++;
    this.inFlight.set(`${deviceId}/${eventId}`, { residentId });
  }

  noteAck(deviceId: string, received: AckReceived): void {
    const key = `${deviceId}/${received.ack.eventId}`;
    if (received.isRepeat) {
      this.repeatedAcks++;
      if (received.matchesFirst === false) this.repeatMismatches.push(`${key}: ${received.raw}`);
      return;
    }
    const sent = this.inFlight.get(key);
    if (!sent) {
      this.strayAcks++;
      return;
    }
    this.inFlight.delete(key);
    this.acked++;
    this.windowAcks++;
    const { ack } = received;
    const outcome = ack.reason ? `${ack.result}/${ack.reason}` : ack.result;
    this.byOutcome.set(outcome, (this.byOutcome.get(outcome) ?? 0) + 1);
    if (received.latencyMs !== undefined) this.latency.recordValue(Math.max(1, received.latencyMs));
    if (ack.result === 'credited' && sent.residentId) {
      this.creditedPoints.set(sent.residentId, (this.creditedPoints.get(sent.residentId) ?? 0) + ack.points);
    }
  }

  noteOtherCredit(residentId: string, points: number): void {
    this.otherCredits.set(residentId, (this.otherCredits.get(residentId) ?? 0) + points);
  }

  get pending(): number {
    return this.inFlight.size;
  }

  /** Events still waiting for their ack, as device/eventId. */
  pendingKeys(): string[] {
    return [...this.inFlight.keys()];
  }

  /** Acks per second since the last call. */
  ackRate(): number {
    const now = Date.now();
    const seconds = (now - this.windowStart) / 1000;
    if (seconds >= 0.5) {
      this.lastRate = this.windowAcks / seconds;
      this.windowAcks = 0;
      this.windowStart = now;
    }
    return this.lastRate;
  }

  percentile(p: number): number {
    return this.latency.totalCount === 0 ? 0 : this.latency.getValueAtPercentile(p);
  }

  progressLine(extra = ''): string {
    return (
      `sent ${this.sent}  acked ${this.acked}  pending ${this.pending}  ` +
      `${this.ackRate().toFixed(0)} acks/s  p50 ${this.percentile(50)} ms  p99 ${this.percentile(99)} ms${extra ? `  ${extra}` : ''}`
    );
  }
}
