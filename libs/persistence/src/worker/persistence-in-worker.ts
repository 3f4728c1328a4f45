import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { DataDirLockedError } from '../data-dir-lock';
import type { Persistence, PersistenceOptions } from '../persistence';
import { IngestRepository } from '../ingest/ingest.repository';
import { AdminTokenRepository } from '../registry/admin-token.repository';
import { CommunityRepository } from '../registry/community.repository';
import { DeadLetterRepository } from '../registry/dead-letter.repository';
import { DeviceRepository } from '../registry/device.repository';
import { ResidentRepository } from '../registry/resident.repository';
import { REPOSITORY_NAMES, type RepositoryName, type SerializedError, type WorkerReply, type WorkerRequest } from './protocol';

const REPOSITORY_CLASSES: Record<RepositoryName, { prototype: object }> = {
  communities: CommunityRepository,
  residents: ResidentRepository,
  devices: DeviceRepository,
  deadLetters: DeadLetterRepository,
  adminTokens: AdminTokenRepository,
  ingest: IngestRepository,
};

function revive(error: SerializedError): Error {
  if (error.name === 'DataDirLockedError') {
    return new DataDirLockedError(String(error.fields['dataDir']), Number(error.fields['holderPid']));
  }
  return Object.assign(new Error(error.message), { name: error.name }, error.fields);
}

/**
 * Opens the persistence layer on a worker thread and returns proxies with the
 * same methods: each call is one message there and one back. Arguments and
 * results are plain data (records, Dates, BigInts, bytes), which is what the
 * repositories take and give.
 */
export async function openPersistenceInWorker(
  options: PersistenceOptions,
  /** Called if the database thread dies on its own (not on close()). */
  onUnexpectedExit: (err: Error) => void = () => undefined,
): Promise<Persistence> {
  const worker = new Worker(join(__dirname, 'persistence.worker.js'), { workerData: options });
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  let nextId = 1;
  let exited: Error | null = null;
  let closing = false;
  let isReady = false;

  const ready = new Promise<Extract<WorkerReply, { type: 'ready' }>>((resolve, reject) => {
    worker.on('message', (reply: WorkerReply) => {
      if (reply.type === 'ready') return resolve(reply);
      if (reply.type === 'failed') return reject(revive(reply.error));
      const call = pending.get(reply.id);
      if (!call) return;
      pending.delete(reply.id);
      if (reply.type === 'result') call.resolve(reply.value);
      else call.reject(revive(reply.error));
    });
    worker.once('error', reject);
    worker.once('exit', (code) => {
      exited = new Error(`the embedded database thread stopped (exit code ${code})`);
      reject(exited);
      for (const call of pending.values()) call.reject(exited);
      pending.clear();
      if (isReady && !closing) onUnexpectedExit(exited);
    });
  });

  const call = (target: WorkerRequest['target'], method: string, args: unknown[]): Promise<unknown> => {
    if (exited) return Promise.reject(exited);
    const id = nextId++;
    return new Promise((resolve, reject) => {
      pending.set(id, { resolve, reject });
      const request = { id, target, method, args } as WorkerRequest;
      worker.postMessage(request);
    });
  };

  let started: Extract<WorkerReply, { type: 'ready' }>;
  try {
    started = await ready;
    isReady = true;
  } catch (err) {
    await worker.terminate();
    throw err;
  }

  // Exactly the classes' own methods: nothing else (no `then`, no Nest lifecycle
  // hooks) may look like a remote call.
  const stub = (target: RepositoryName) => {
    const methods = Object.getOwnPropertyNames(REPOSITORY_CLASSES[target].prototype).filter(
      (m) => m !== 'constructor' && !m.startsWith('_'),
    );
    return Object.fromEntries(methods.map((method) => [method, (...args: unknown[]) => call(target, method, args)]));
  };
  const repositories = Object.fromEntries(REPOSITORY_NAMES.map((name) => [name, stub(name)])) as unknown as Pick<
    Persistence,
    RepositoryName
  >;
  return {
    mode: started.mode,
    migrations: started.migrations,
    ...repositories,
    ping: () => call('self', 'ping', []) as Promise<void>,
    close: async () => {
      closing = true;
      await call('self', 'close', []);
      await worker.terminate();
    },
  };
}
