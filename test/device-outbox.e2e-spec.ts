import { spawn } from 'node:child_process';
import { appendFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { DuplicateEventIdError, FileOutbox, FileSequence, OutboxFullError } from '../libs/protocol/src/device';

const HARNESS = join(__dirname, '..', 'dist', 'test', 'support', 'outbox-writer.harness.js');

/** Runs the writer until it has printed `lines` lines, then SIGKILLs it mid-stream. */
function writeThenKill(
  dir: string,
  prefix: string,
  lines: number,
): Promise<{ added: Set<string>; removing: Set<string>; removed: Set<string> }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [HARNESS, dir, prefix], { stdio: ['ignore', 'pipe', 'inherit'] });
    const added = new Set<string>();
    const removing = new Set<string>();
    const removed = new Set<string>();
    let count = 0;
    createInterface({ input: child.stdout }).on('line', (line) => {
      const [what, id] = line.split(' ') as [string, string];
      if (what === 'added') added.add(id);
      if (what === 'removing') removing.add(id);
      if (what === 'removed') removed.add(id);
      if (++count === lines) child.kill('SIGKILL');
    });
    child.once('exit', (code, signal) =>
      signal === 'SIGKILL' ? resolve({ added, removing, removed }) : reject(new Error(`writer exited ${code}`)),
    );
  });
}

describe('durable outbox on disk', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'jifen-outbox-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('keeps every event whose add() returned, across SIGKILLs, with no duplicates and nothing acked coming back', async () => {
    const allAdded = new Set<string>();
    const allRemoving = new Set<string>();
    const allRemoved = new Set<string>();
    for (const round of ['a', 'b', 'c']) {
      const { added, removing, removed } = await writeThenKill(dir, round, 1500);
      added.forEach((id) => allAdded.add(id));
      removing.forEach((id) => allRemoving.add(id));
      removed.forEach((id) => allRemoved.add(id));
    }
    expect(allRemoved.size).toBeGreaterThan(100);
    const outbox = await FileOutbox.open({ dir });
    try {
      const ids = outbox.entries().map((e) => e.eventId);
      expect(new Set(ids).size).toBe(ids.length);
      const missing = [...allAdded].filter((id) => !allRemoving.has(id) && !outbox.has(id));
      expect(missing).toEqual([]);
      const resurrected = [...allRemoved].filter((id) => outbox.has(id));
      expect(resurrected).toEqual([]);
      // Entries keep their exact bytes and come back oldest first.
      const first = outbox.entries()[0]!;
      expect(JSON.parse(first.bytes)).toMatchObject({ eventId: first.eventId, type: 'tap' });
      expect(outbox.size).toBeGreaterThan(1000);
      expect(outbox.unreadableLines).toBe(0);
    } finally {
      await outbox.close();
    }
  }, 60_000);

  it('drops a torn last line (a crash mid-write) and keeps everything before it', async () => {
    const outbox = await FileOutbox.open({ dir });
    await outbox.add({ eventId: 'e1', bytes: '{"eventId":"e1"}', storedAt: 1 });
    await outbox.add({ eventId: 'e2', bytes: '{"eventId":"e2"}', storedAt: 2 });
    await outbox.close();
    appendFileSync(join(dir, 'outbox.log'), '{"op":"add","eventId":"e3","by');
    const reopened = await FileOutbox.open({ dir });
    expect(reopened.entries().map((e) => e.eventId)).toEqual(['e1', 'e2']);
    // New lines start cleanly after the cut.
    await reopened.add({ eventId: 'e4', bytes: '{"eventId":"e4"}', storedAt: 4 });
    await reopened.close();
    const third = await FileOutbox.open({ dir });
    expect(third.entries().map((e) => e.eventId)).toEqual(['e1', 'e2', 'e4']);
    await third.close();
  });

  it('is bounded, refuses a reused id, and refuses a second process on the same directory', async () => {
    const outbox = await FileOutbox.open({ dir, capacity: 2 });
    await outbox.add({ eventId: 'a', bytes: '{}', storedAt: 1 });
    await expect(outbox.add({ eventId: 'a', bytes: '{}', storedAt: 1 })).rejects.toBeInstanceOf(DuplicateEventIdError);
    await outbox.add({ eventId: 'b', bytes: '{}', storedAt: 1 });
    await expect(outbox.add({ eventId: 'c', bytes: '{}', storedAt: 1 })).rejects.toBeInstanceOf(OutboxFullError);
    expect(await outbox.remove('a')).toBe(true);
    expect(await outbox.remove('a')).toBe(false);
    await outbox.add({ eventId: 'c', bytes: '{}', storedAt: 1 });
    expect(outbox.entries().map((e) => e.eventId)).toEqual(['b', 'c']);
    await outbox.close();

    // A live process holding the lock: our parent (jest's worker parent is alive).
    const lockDir = mkdtempSync(join(tmpdir(), 'jifen-outbox-lock-'));
    try {
      const { writeFileSync } = await import('node:fs');
      writeFileSync(join(lockDir, 'outbox.lock'), String(process.ppid));
      await expect(FileOutbox.open({ dir: lockDir })).rejects.toThrow(/in use by process/);
    } finally {
      rmSync(lockDir, { recursive: true, force: true });
    }
  });

  it('never repeats a seq across restarts, even after a crash', () => {
    const first = FileSequence.open(dir, 10);
    const seen = Array.from({ length: 25 }, () => first.take());
    // No close: as if killed. The next start begins above everything handed out.
    const second = FileSequence.open(dir, 10);
    const next = second.take();
    expect(next).toBeGreaterThan(Math.max(...seen));
    expect(second.installId).toBe(first.installId);
    expect(first.installId).toMatch(/^[0-9a-f]{8}$/);
  });
});
