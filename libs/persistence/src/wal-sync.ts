import { open, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * PGlite runs with fsync=off: a commit reaches the OS page cache, not the disk,
 * and a power cut could lose points a device was already told about. After each
 * commit, and before its acks are published, we fsync the write-ahead-log
 * segments written since the previous call, so an acked commit is on disk and
 * PostgreSQL's own recovery replays it at the next start.
 *
 * Asynchronous on purpose: the flush runs on libuv's thread pool while the event
 * loop goes on receiving the next events (PGlite itself runs on this thread).
 */
export class WalSync {
  private lastSyncMs = 0;
  private readonly walDir: string;

  constructor(dataDir: string) {
    this.walDir = join(dataDir, 'pg_wal');
  }

  /** fsyncs every WAL segment modified since the previous call (usually one); returns how many. */
  async sync(): Promise<number> {
    const started = Date.now();
    const names = (await readdir(this.walDir)).filter((name) => /^[0-9A-F]{24}$/.test(name));
    let synced = 0;
    for (const name of names) {
      const path = join(this.walDir, name);
      // A second of slack: mtime resolution varies by filesystem.
      if ((await stat(path)).mtimeMs + 1000 < this.lastSyncMs) continue;
      await fsyncPath(path, 'r+');
      synced++;
    }
    await fsyncPath(this.walDir, 'r'); // a new segment's directory entry
    this.lastSyncMs = started;
    return synced;
  }
}

async function fsyncPath(path: string, flags: string): Promise<void> {
  const handle = await open(path, flags);
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
