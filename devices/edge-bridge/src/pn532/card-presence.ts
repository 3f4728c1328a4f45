/**
 * A card held on a reader is seen at every poll; a resident means one tap. This
 * turns sightings into taps: a UID is a new tap when it was not seen during the
 * last `goneAfterMs`. Time is passed in, so it is tested without waiting.
 */
export class CardPresence {
  private lastSeen = new Map<string, number>();

  constructor(private readonly goneAfterMs: number) {}

  /** Records the UIDs on the reader now; returns those that are new taps. */
  sighted(uids: readonly string[], now: number): string[] {
    const taps: string[] = [];
    for (const uid of uids) {
      const last = this.lastSeen.get(uid);
      if (last === undefined || now - last > this.goneAfterMs) taps.push(uid);
      this.lastSeen.set(uid, now);
    }
    for (const [uid, at] of this.lastSeen) if (now - at > this.goneAfterMs) this.lastSeen.delete(uid);
    return taps;
  }
}
