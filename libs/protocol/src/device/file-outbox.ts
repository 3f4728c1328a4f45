import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { type FileHandle, open } from 'node:fs/promises';
import { join } from 'node:path';
import { DuplicateEventIdError, type Outbox, type OutboxEntry, OutboxFullError } from './outbox';

type LogRecord = { op: 'add'; eventId: string; bytes: string; storedAt: number } | { op: 'del'; eventId: string };

export interface FileOutboxOptions {
  /** Directory holding `outbox.log` and `outbox.lock`; created if missing. One device per directory. */
  dir: string;
  /** Most unacked events kept; add() refuses past it. */
  capacity?: number;
  /** Rewrite the log once it holds this many records more than the live entries. */
  compactAfterRecords?: number;
}

/**
 * An outbox that survives SIGKILL and power loss: an append-only log of JSON lines
 * (`add` with the event's bytes, `del` when acked) in one directory. add() resolves
 * only after the line is written and fdatasync'd, so a caller that publishes after
 * awaiting it never publishes an event a crash could forget. Concurrent adds share
 * one fdatasync (group commit). A torn last line (a crash mid-write) is dropped on
 * open: its add() had not resolved, so nothing was published from it.
 */
export class FileOutbox implements Outbox {
  readonly capacity: number;
  /** Complete lines that could not be read when the log was opened (disk damage); skipped. */
  readonly unreadableLines: number;
  private readonly live = new Map<string, OutboxEntry>();
  private readonly logPath: string;
  private readonly lockPath: string;
  private readonly compactAfter: number;
  private handle: FileHandle | null = null;
  private records = 0;
  private queue: { line: string; done: (err?: Error) => void }[] = [];
  private flushing: Promise<void> | null = null;
  private reserved = 0;
  private closed = false;

  private constructor(options: FileOutboxOptions, loaded: { entries: OutboxEntry[]; records: number; unreadable: number }) {
    this.capacity = options.capacity ?? 10_000;
    this.compactAfter = options.compactAfterRecords ?? 2_000;
    this.logPath = join(options.dir, 'outbox.log');
    this.lockPath = join(options.dir, 'outbox.lock');
    for (const e of loaded.entries) this.live.set(e.eventId, e);
    this.records = loaded.records;
    this.unreadableLines = loaded.unreadable;
  }

  static async open(options: FileOutboxOptions): Promise<FileOutbox> {
    mkdirSync(options.dir, { recursive: true });
    takeLock(join(options.dir, 'outbox.lock'));
    const logPath = join(options.dir, 'outbox.log');
    const loaded = readLog(logPath);
    const outbox = new FileOutbox(options, loaded);
    // Rewriting at open also cuts off a torn tail, so new lines start on a line boundary.
    await outbox.rewrite();
    return outbox;
  }

  get size(): number {
    return this.live.size;
  }

  has(eventId: string): boolean {
    return this.live.has(eventId);
  }

  get(eventId: string): OutboxEntry | undefined {
    return this.live.get(eventId);
  }

  entries(): OutboxEntry[] {
    return [...this.live.values()];
  }

  async add(entry: OutboxEntry): Promise<void> {
    this.assertOpen();
    if (this.live.has(entry.eventId)) throw new DuplicateEventIdError(entry.eventId);
    if (this.live.size + this.reserved >= this.capacity) throw new OutboxFullError(this.capacity);
    this.reserved++;
    try {
      await this.append({ op: 'add', eventId: entry.eventId, bytes: entry.bytes, storedAt: entry.storedAt });
    } finally {
      this.reserved--;
    }
    // Visible (and so publishable) only once durable.
    this.live.set(entry.eventId, { ...entry });
  }

  async remove(eventId: string): Promise<boolean> {
    this.assertOpen();
    if (!this.live.delete(eventId)) return false;
    await this.append({ op: 'del', eventId });
    if (this.records - this.live.size > this.compactAfter) await this.serialized(() => this.rewrite());
    return true;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    while (this.flushing) await this.flushing;
    await this.handle?.close();
    this.handle = null;
    try {
      unlinkSync(this.lockPath);
    } catch {
      // already gone
    }
  }

  private assertOpen(): void {
    if (this.closed) throw new Error('the outbox is closed');
  }

  private append(record: LogRecord): Promise<void> {
    return new Promise((resolve, reject) => {
      this.queue.push({ line: `${JSON.stringify(record)}\n`, done: (err) => (err ? reject(err) : resolve()) });
      if (!this.flushing) this.flushing = this.flushLoop();
    });
  }

  private async flushLoop(): Promise<void> {
    try {
      while (this.queue.length > 0) {
        const batch = this.queue;
        this.queue = [];
        try {
          const handle = this.handle!;
          await handle.write(batch.map((b) => b.line).join(''));
          await handle.datasync();
          this.records += batch.length;
          batch.forEach((b) => b.done());
        } catch (err) {
          batch.forEach((b) => b.done(err as Error));
        }
      }
    } finally {
      this.flushing = null;
    }
  }

  private async serialized(work: () => Promise<void>): Promise<void> {
    while (this.flushing) await this.flushing;
    this.flushing = work().finally(() => {
      this.flushing = null;
      // Lines appended while the log was rewritten wait for this.
      if (this.queue.length > 0) this.flushing = this.flushLoop();
    });
    await this.flushing;
  }

  /** Writes the live entries to a new log and renames it over the old one (atomic on POSIX). */
  private async rewrite(): Promise<void> {
    const tmp = `${this.logPath}.tmp`;
    const lines = [...this.live.values()].map((e) =>
      JSON.stringify({ op: 'add', eventId: e.eventId, bytes: e.bytes, storedAt: e.storedAt } satisfies LogRecord),
    );
    const fd = openSync(tmp, 'w');
    try {
      writeFileSync(fd, lines.length ? `${lines.join('\n')}\n` : '');
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    await this.handle?.close();
    renameSync(tmp, this.logPath);
    fsyncDir(join(this.logPath, '..'));
    this.handle = await open(this.logPath, 'a');
    this.records = lines.length;
  }
}

function readLog(path: string): { entries: OutboxEntry[]; records: number; unreadable: number } {
  const live = new Map<string, OutboxEntry>();
  if (!existsSync(path)) return { entries: [], records: 0, unreadable: 0 };
  const text = readFileSync(path, 'utf8');
  const complete = text.endsWith('\n') ? text : text.slice(0, text.lastIndexOf('\n') + 1);
  let records = 0;
  let unreadable = 0;
  for (const line of complete.split('\n')) {
    if (line === '') continue;
    records++;
    const record = parseRecord(line);
    if (!record) {
      unreadable++;
      continue;
    }
    if (record.op === 'add') live.set(record.eventId, { eventId: record.eventId, bytes: record.bytes, storedAt: record.storedAt });
    else live.delete(record.eventId);
  }
  return { entries: [...live.values()], records, unreadable };
}

function parseRecord(line: string): LogRecord | null {
  try {
    const r = JSON.parse(line) as Partial<{ op: string; eventId: unknown; bytes: unknown; storedAt: unknown }>;
    if (typeof r.eventId !== 'string') return null;
    if (r.op === 'del') return { op: 'del', eventId: r.eventId };
    if (r.op === 'add' && typeof r.bytes === 'string' && typeof r.storedAt === 'number') {
      return { op: 'add', eventId: r.eventId, bytes: r.bytes, storedAt: r.storedAt };
    }
    return null;
  } catch {
    return null;
  }
}

/** One process per outbox directory: a second one would interleave its lines with ours. */
function takeLock(lockPath: string): void {
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      writeFileSync(lockPath, String(process.pid), { flag: 'wx' });
      return;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const holder = Number(readFileSync(lockPath, 'utf8'));
      if (Number.isInteger(holder) && holder > 0 && holder !== process.pid && isAlive(holder)) {
        throw new Error(`outbox ${lockPath} is in use by process ${holder}; run one device per outbox directory`, { cause: err });
      }
      // Left by a process that died (SIGKILL, power cut): take it over.
      unlinkSync(lockPath);
    }
  }
  throw new Error(`could not lock ${lockPath}`);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function fsyncDir(dir: string): void {
  try {
    const fd = openSync(dir, 'r');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  } catch {
    // Some file systems refuse fsync on a directory; the rename is still atomic.
  }
}
