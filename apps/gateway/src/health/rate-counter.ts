/** Messages per minute over the last five minutes, in one-minute slots (no per-message allocation). */
export class RateCounter {
  private readonly slots = new Array<number>(5).fill(0);
  private readonly slotMinute = new Array<number>(5).fill(-1);

  add(atMs: number): void {
    const minute = Math.floor(atMs / 60_000);
    const i = minute % 5;
    if (this.slotMinute[i] !== minute) {
      this.slotMinute[i] = minute;
      this.slots[i] = 0;
    }
    this.slots[i]!++;
  }

  /** The average of the last five whole or partial minutes that had traffic in range. */
  perMinute(nowMs: number): number {
    const minute = Math.floor(nowMs / 60_000);
    let total = 0;
    for (let i = 0; i < 5; i++) if (this.slotMinute[i]! > minute - 5) total += this.slots[i]!;
    return Math.round((total / 5) * 10) / 10;
  }
}
