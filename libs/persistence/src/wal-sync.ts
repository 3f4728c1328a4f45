import { open, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * PGlite runs with fsync=off: a commit reaches the OS page cache, not the disk,
 * and a power cut could lose points a device was already told about. After each
 * commit, and before its acks are published, we flush the write-ahead-log
 * segments written since the previous call, so an acked commit is on disk and
 * PostgreSQL's own recovery replays it at the next start.
 *
 * A segment's data is flushed with fdatasync, as PostgreSQL's own default
 * (wal_sync_method = fdatasync on Linux): PostgreSQL fills a segment with zeros
 * when it makes it, so a commit changes the file's data, not its size, and
 * fdatasync need not write the inode (its mtime) through the filesystem journal
 * as fsync does. The directory is flushed only when a segment name appeared
 * (a new or recycled segment): that is when its entry must reach the disk.
 *
 * Asynchronous on purpose: the flush runs on libuv's thread pool while the event
 * loop goes on receiving the next events (PGlite itself runs on this thread).
 */
export class WalSync {
  private lastSyncMs = 0;
  private readonly walDir: string;
  private knownSegments = new Set<string>();

  constructor(dataDir: string) {
    this.walDir = join(dataDir, 'pg_wal');
  }

  /** Flushes every WAL segment modified since the previous call (usually one), and the directory if a segment is new. */
  async sync(): Promise<{ segments: number; directory: boolean }> {
    const started = Date.now();
    const names = (await readdir(this.walDir)).filter((name) => /^[0-9A-F]{24}$/.test(name));
    let segments = 0;
    for (const name of names) {
      const path = join(this.walDir, name);
      // A second of slack: mtime resolution varies by filesystem.
      if ((await stat(path)).mtimeMs + 1000 < this.lastSyncMs) continue;
      await flush(path, 'r+', 'data');
      segments++;
    }
    const directory = names.some((name) => !this.knownSegments.has(name));
    if (directory) {
      await flush(this.walDir, 'r', 'all');
      this.knownSegments = new Set(names);
    }
    this.lastSyncMs = started;
    return { segments, directory };
  }
}

async function flush(path: string, flags: string, what: 'data' | 'all'): Promise<void> {
  const handle = await open(path, flags);
  try {
    await (what === 'data' ? handle.datasync() : handle.sync());
  } finally {
    await handle.close();
  }
}
