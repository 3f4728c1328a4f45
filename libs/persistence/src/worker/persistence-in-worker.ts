import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { DOMAIN_ERROR_CODES, DomainError, type DomainErrorCode } from '../../../domain/src/domain-error';
import { DataDirLockedError } from '../data-dir-lock';
import type { Persistence, PersistenceOptions } from '../persistence';
import { BinRepository } from '../bins/bin.repository';
import { HealthRepository } from '../health/health.repository';
import { ActivityRepository } from '../activities/activity.repository';
import { ActivitySiteRepository } from '../activities/activity-site.repository';
import { AttendanceRepository } from '../activities/attendance.repository';
import { IngestRepository } from '../ingest/ingest.repository';
import { PointsRulesRepository } from '../bins/points-rules.repository';
import { ExpiryRepository } from '../ledger/expiry.repository';
import { LedgerRepository } from '../ledger/ledger.repository';
import { LedgerReportsRepository } from '../reports/ledger-reports.repository';
import { DepositReportsRepository } from '../reports/deposit-reports.repository';
import { AdminTokenRepository } from '../registry/admin-token.repository';
import { AuditLogRepository } from '../registry/audit-log.repository';
import { BuildingRepository } from '../registry/building.repository';
import { CardRepository } from '../registry/card.repository';
import { CommunityRepository } from '../registry/community.repository';
import { DeadLetterRepository } from '../registry/dead-letter.repository';
import { DeviceRepository } from '../registry/device.repository';
import { HouseholdRepository } from '../registry/household.repository';
import { IdempotencyRepository } from '../registry/idempotency.repository';
import { ResidentImportRepository } from '../registry/resident-import.repository';
import { ResidentRepository } from '../registry/resident.repository';
import { StaffRepository } from '../registry/staff.repository';
import { SupermarketRepository } from '../supermarket/supermarket.repository';
import { HousekeepingRepository } from '../jobs/housekeeping.repository';
import { JobLeaseRepository } from '../jobs/job-lease.repository';
import { DeviceCommandRepository } from '../fleet/device-command.repository';
import { ProvisioningKeyRepository } from '../fleet/provisioning-key.repository';
import { REPOSITORY_NAMES, type RepositoryName, type SerializedError, type WorkerReply, type WorkerRequest } from './protocol';

const REPOSITORY_CLASSES: Record<RepositoryName, { prototype: object }> = {
  communities: CommunityRepository,
  residents: ResidentRepository,
  buildings: BuildingRepository,
  households: HouseholdRepository,
  cards: CardRepository,
  residentImports: ResidentImportRepository,
  devices: DeviceRepository,
  deadLetters: DeadLetterRepository,
  adminTokens: AdminTokenRepository,
  staff: StaffRepository,
  auditLog: AuditLogRepository,
  idempotency: IdempotencyRepository,
  ingest: IngestRepository,
  ledger: LedgerRepository,
  expiry: ExpiryRepository,
  pointsRules: PointsRulesRepository,
  reports: LedgerReportsRepository,
  depositReports: DepositReportsRepository,
  supermarket: SupermarketRepository,
  bins: BinRepository,
  jobLeases: JobLeaseRepository,
  housekeeping: HousekeepingRepository,
  health: HealthRepository,
  activities: ActivityRepository,
  activitySites: ActivitySiteRepository,
  deviceCommands: DeviceCommandRepository,
  provisioningKeys: ProvisioningKeyRepository,
  attendance: AttendanceRepository,
};

function revive(error: SerializedError): Error {
  if (error.name === 'DataDirLockedError') {
    return new DataDirLockedError(String(error.fields['dataDir']), Number(error.fields['holderPid']));
  }
  // A DomainError (its code maps to an HTTP status) is one again on this side of the thread.
  if (error.name === 'DomainError' && (DOMAIN_ERROR_CODES as readonly unknown[]).includes(error.fields['code'])) {
    const details = error.fields['details'];
    return new DomainError(
      error.fields['code'] as DomainErrorCode,
      error.message,
      details && typeof details === 'object' ? (details as Record<string, unknown>) : undefined,
    );
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
