import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WalSync } from '../libs/persistence/src/wal-sync';

/**
 * What the embedded database flushes after each commit (libs/persistence/src/wal-sync.ts):
 * the WAL segments written since the last flush, and the pg_wal directory only
 * when a segment name appeared. Real files in a temporary pg_wal.
 */
describe('WalSync', () => {
  let dataDir: string;
  let walDir: string;
  const segment = (name: string, ageSeconds = 0) => {
    const path = join(walDir, name);
    writeFileSync(path, Buffer.alloc(4096));
    if (ageSeconds > 0) {
      const at = new Date(Date.now() - ageSeconds * 1000);
      utimesSync(path, at, at);
    }
  };

  beforeEach(() => {
    dataDir = mkdtempSync(join(tmpdir(), 'jifen-walsync-'));
    walDir = join(dataDir, 'pg_wal');
    mkdirSync(join(walDir, 'archive_status'), { recursive: true });
  });
  afterEach(() => rmSync(dataDir, { recursive: true, force: true }));

  it('flushes every segment and the directory the first time, and ignores files that are not segments', async () => {
    segment('000000010000000000000001');
    segment('000000010000000000000002');
    writeFileSync(join(walDir, '000000010000000000000002.partial'), 'x');
    expect(await new WalSync(dataDir).sync()).toEqual({ segments: 2, directory: true });
  });

  it('skips segments untouched since the previous flush, and the directory while no segment name is new', async () => {
    segment('000000010000000000000001', 3600);
    segment('000000010000000000000002');
    const wal = new WalSync(dataDir);
    await wal.sync();
    // Written again: the old segment was not touched, the current one was.
    segment('000000010000000000000002');
    expect(await wal.sync()).toEqual({ segments: 1, directory: false });
  });

  it('flushes the directory again when a segment appears (a new or recycled name)', async () => {
    segment('000000010000000000000001');
    const wal = new WalSync(dataDir);
    await wal.sync();
    segment('000000010000000000000002');
    expect(await wal.sync()).toEqual({ segments: 2, directory: true });
    expect((await wal.sync()).directory).toBe(false);
  });
});
