import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';

/**
 * Event `seq` must increase per device across reboots (shared/PROTOCOL.md,
 * "events"). Writing the counter on every event would cost an fsync each, so the
 * file holds a reserved high mark: at boot the counter starts at the mark and a
 * new mark `block` higher is made durable first. A crash skips at most one block
 * of numbers; it never repeats one.
 */
export class FileSequence {
  private next: number;
  private reservedUpTo: number;

  private constructor(
    private readonly path: string,
    private readonly block: number,
    start: number,
    /** Random, made at the first start in this directory: a prefix that keeps event ids unique if the directory is ever lost. */
    readonly installId: string,
  ) {
    this.next = start;
    this.reservedUpTo = start;
    this.reserve();
  }

  static open(dir: string, block = 1000): FileSequence {
    mkdirSync(dir, { recursive: true });
    const path = join(dir, 'seq');
    let start = 0;
    if (existsSync(path)) {
      const stored = Number(readFileSync(path, 'utf8').trim());
      if (!Number.isSafeInteger(stored) || stored < 0)
        throw new Error(`${path} does not hold a sequence number; remove it only if no event was ever sent`);
      start = stored;
    }
    const idPath = join(dir, 'install-id');
    if (!existsSync(idPath)) writeDurably(idPath, randomBytes(4).toString('hex'));
    const installId = readFileSync(idPath, 'utf8').trim();
    return new FileSequence(path, block, start, installId);
  }

  /** The next seq; also the basis of the event id (unique per device for ever). */
  take(): number {
    if (this.next >= this.reservedUpTo) this.reserve();
    return this.next++;
  }

  private reserve(): void {
    const mark = this.next + this.block;
    writeDurably(this.path, String(mark));
    this.reservedUpTo = mark;
  }
}

/** Write to a temp file, fsync, rename over: the file holds the old or the new text, never half. */
function writeDurably(path: string, text: string): void {
  const tmp = `${path}.tmp`;
  const fd = openSync(tmp, 'w');
  try {
    writeFileSync(fd, text);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
}

/** A counter for devices without a disk (simulated fleets): starts from a base such as the current time in ms. */
export class MemorySequence {
  constructor(private next: number) {}
  take(): number {
    return this.next++;
  }
}
