/**
 * The acks this gateway published last, by device and event id, so that a
 * device's resend of an event it was already answered for (its ack crossed the
 * resend, or was lost) is answered again without a database round trip.
 * Bounded: past `capacity` entries the oldest is forgotten, and a resend of it
 * goes to the database as before. Correct across replicas because a stored ack
 * never changes: any copy of it is the bytes the database would return.
 */
export class RecentAcks {
  private readonly acks = new Map<string, string>();

  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 0) throw new RangeError(`capacity must be a whole number ≥ 0, got ${capacity}`);
  }

  get size(): number {
    return this.acks.size;
  }

  get(key: string): string | undefined {
    return this.acks.get(key);
  }

  remember(key: string, ack: string): void {
    if (this.capacity === 0) return;
    this.acks.delete(key); // re-inserted at the young end
    this.acks.set(key, ack);
    if (this.acks.size > this.capacity) this.acks.delete(this.acks.keys().next().value!);
  }
}
