import { writeFileSync } from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';
import { type Persistence, type PersistenceOptions, openPersistence } from '../persistence';
import { type WorkerReply, type WorkerRequest, DATABASE_THREAD_NAME, REPOSITORY_NAMES, serializeError } from './protocol';

/**
 * The embedded database's thread: PGlite (PostgreSQL compiled to WASM) and the
 * repositories over it run here, so the database's CPU work does not share the
 * event loop with the broker and the MQTT ingest (measured in scripts/bench).
 */
async function main(): Promise<void> {
  const port = parentPort;
  if (!port) throw new Error('persistence.worker must run in a worker thread');
  nameThisThread(DATABASE_THREAD_NAME);
  let persistence: Persistence;
  try {
    persistence = await openPersistence(workerData as PersistenceOptions);
  } catch (err) {
    port.postMessage({ type: 'failed', error: serializeError(err) } satisfies WorkerReply);
    return;
  }
  port.on('message', (request: WorkerRequest) => {
    void handle(persistence, request).then(
      (value) => port.postMessage({ type: 'result', id: request.id, value } satisfies WorkerReply),
      (err: unknown) => port.postMessage({ type: 'error', id: request.id, error: serializeError(err) } satisfies WorkerReply),
    );
  });
  port.postMessage({ type: 'ready', mode: persistence.mode, migrations: persistence.migrations } satisfies WorkerReply);
}

/** Linux: a thread may rename itself (15 bytes at most); elsewhere, or if refused, it keeps Node's name. */
function nameThisThread(name: string): void {
  try {
    writeFileSync('/proc/thread-self/comm', name);
  } catch {
    // Not Linux, or /proc not mounted: only the name is lost.
  }
}

async function handle(persistence: Persistence, request: WorkerRequest): Promise<unknown> {
  if (request.target === 'self') {
    if (request.method === 'ping') return persistence.ping();
    return persistence.close();
  }
  if (!REPOSITORY_NAMES.includes(request.target)) throw new Error(`unknown repository ${String(request.target)}`);
  const repository = persistence[request.target] as unknown as Record<string, (...args: unknown[]) => unknown>;
  const method = repository[request.method];
  if (typeof method !== 'function') throw new Error(`unknown method ${request.target}.${request.method}`);
  return method.apply(repository, request.args);
}

void main();
