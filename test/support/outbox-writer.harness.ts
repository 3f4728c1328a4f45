/**
 * Child process for test/device-outbox.e2e-spec.ts: opens a FileOutbox and adds
 * events as fast as it can, removing every third one as if acked. It prints
 * `added <id>` only after add() resolved (durable), `removing <id>` before
 * remove() and `removed <id>` after it resolved, so the parent knows what must survive a SIGKILL.
 */
import { FileOutbox } from '../../libs/protocol/src/device';

async function main(): Promise<void> {
  const [dir, prefix] = process.argv.slice(2) as [string, string];
  const outbox = await FileOutbox.open({ dir, capacity: 1_000_000, compactAfterRecords: 300 });
  process.stdout.write(`opened ${outbox.size}\n`);
  for (let i = 0; ; i++) {
    const eventId = `${prefix}-${i}`;
    const bytes = JSON.stringify({ eventId, seq: i, occurredAt: new Date().toISOString(), type: 'tap', cardUid: 'DEADBEEF' });
    // Several adds in flight at once, as a busy bin would have: they share an fdatasync.
    await Promise.all(
      [0, 1, 2].map(async (k) => {
        const id = `${eventId}.${k}`;
        await outbox.add({ eventId: id, bytes: bytes.replace(eventId, id), storedAt: Date.now() });
        process.stdout.write(`added ${id}\n`);
        if (k !== 0) return;
        // Between these two lines the ack is being recorded: after a kill the entry may be either way.
        process.stdout.write(`removing ${id}\n`);
        if (await outbox.remove(id)) process.stdout.write(`removed ${id}\n`);
      }),
    );
  }
}

void main();
