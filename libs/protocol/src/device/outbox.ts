/**
 * The device's durable outbox (shared/PROTOCOL.md, device duties 2 and 3): every
 * event is stored before it is first published and kept until an ack with its
 * eventId arrives, whatever the result. Entries keep their exact bytes so a resend
 * is byte-for-byte the first publish.
 */
export interface OutboxEntry {
  eventId: string;
  /** The JSON text exactly as first published. */
  bytes: string;
  /** When the entry was stored (device clock, ms since the epoch). */
  storedAt: number;
}

export interface Outbox {
  /** Stores an entry; resolves only once it is durable. Throws OutboxFullError when the outbox is at its bound. */
  add(entry: OutboxEntry): Promise<void>;
  /** Forgets an acked entry; false when it was not there (a repeated ack). */
  remove(eventId: string): Promise<boolean>;
  has(eventId: string): boolean;
  get(eventId: string): OutboxEntry | undefined;
  /** Entries, oldest first. */
  entries(): OutboxEntry[];
  readonly size: number;
  readonly capacity: number;
  close(): Promise<void>;
}

export class OutboxFullError extends Error {
  readonly code = 'outbox-full';
  constructor(capacity: number) {
    super(`the outbox holds ${capacity} unacked events, its bound; the event was not taken (is the gateway reachable?)`);
    this.name = 'OutboxFullError';
  }
}

export class DuplicateEventIdError extends Error {
  readonly code = 'duplicate-event-id';
  constructor(eventId: string) {
    super(`event ${eventId} is already in the outbox; an event id is used once`);
    this.name = 'DuplicateEventIdError';
  }
}

/** The outbox of a device that may lose its events on a crash: tests and load runs. */
export class MemoryOutbox implements Outbox {
  private readonly byId = new Map<string, OutboxEntry>();

  constructor(readonly capacity = 10_000) {}

  add(entry: OutboxEntry): Promise<void> {
    if (this.byId.has(entry.eventId)) return Promise.reject(new DuplicateEventIdError(entry.eventId));
    if (this.byId.size >= this.capacity) return Promise.reject(new OutboxFullError(this.capacity));
    this.byId.set(entry.eventId, { ...entry });
    return Promise.resolve();
  }

  remove(eventId: string): Promise<boolean> {
    return Promise.resolve(this.byId.delete(eventId));
  }

  has(eventId: string): boolean {
    return this.byId.has(eventId);
  }

  get(eventId: string): OutboxEntry | undefined {
    return this.byId.get(eventId);
  }

  entries(): OutboxEntry[] {
    // A Map iterates in insertion order: oldest first.
    return [...this.byId.values()];
  }

  get size(): number {
    return this.byId.size;
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}
