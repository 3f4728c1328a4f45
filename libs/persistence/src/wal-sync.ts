import { closeSync, fsyncSync, openSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

/**
 * PGlite runs with fsync=off: a commit reaches the OS page cache, not the disk,
 * and a power cut could lose points a device was already told about. After each
 * commit we fsync the write-ahead log segments written since the last call, so
 * an acked commit is on disk and PostgreSQL's own recovery replays it on start.
 */
export class WalSync {
  private lastSyncMs = 0;
  private readonly walDir: string;

  constructor(dataDir: string) {
    this.walDir = join(dataDir, 'pg_wal');
  }

  /** fsyncs every WAL segment modified since the previous call (usually one). */
  sync(): number {
    const started = Date.now();
    let synced = 0;
    for (const name of readdirSync(this.walDir)) {
      if (!/^[0-9A-F]{24}$/.test(name)) continue;
      const path = join(this.walDir, name);
      // Compare with a second of slack: mtime resolution varies by filesystem.
      if (statSync(path).mtimeMs + 1000 < this.lastSyncMs) continue;
      const fd = openSync(path, 'r+');
      try {
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
      synced++;
    }
    const dirFd = openSync(this.walDir, 'r');
    try {
      fsyncSync(dirFd);
    } finally {
      closeSync(dirFd);
    }
    this.lastSyncMs = started;
    return synced;
  }
}
