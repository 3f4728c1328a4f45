import type { AppliedMigrations } from '../migrate';
import type { DatabaseMode } from '../database';

/** The database thread's name (Linux): how `top -H`, `ps -L` and the benchmark's CPU budget tell it from Node's own threads. */
export const DATABASE_THREAD_NAME = 'jifen-database';

export const REPOSITORY_NAMES = [
  'communities',
  'residents',
  'buildings',
  'households',
  'cards',
  'residentImports',
  'devices',
  'deadLetters',
  'adminTokens',
  'staff',
  'auditLog',
  'idempotency',
  'ingest',
  'ledger',
  'expiry',
  'pointsRules',
  'reports',
  'depositReports',
  'supermarket',
  'bins',
  'jobLeases',
  'housekeeping',
  'health',
  'activities',
  'activitySites',
  'deviceCommands',
  'provisioningKeys',
  'attendance',
] as const;
export type RepositoryName = (typeof REPOSITORY_NAMES)[number];

export type WorkerRequest =
  | { id: number; target: RepositoryName; method: string; args: unknown[] }
  | { id: number; target: 'self'; method: 'ping' | 'close'; args: [] };

export interface SerializedError {
  name: string;
  message: string;
  fields: Record<string, unknown>;
}

export type WorkerReply =
  | { type: 'ready'; mode: DatabaseMode; migrations: AppliedMigrations }
  | { type: 'failed'; error: SerializedError }
  | { type: 'result'; id: number; value: unknown }
  | { type: 'error'; id: number; error: SerializedError };

/** Errors cross the thread boundary as data, with their own fields (code, dataDir, ...). */
export function serializeError(err: unknown): SerializedError {
  if (!(err instanceof Error)) return { name: 'Error', message: String(err), fields: {} };
  const fields: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(err)) {
    if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') fields[key] = value;
    // A DomainError's details are plain data (ids, counts): they cross as they are.
    else if (key === 'details' && value !== null && typeof value === 'object') {
      try {
        fields[key] = JSON.parse(JSON.stringify(value)) as unknown;
      } catch {
        // not plain data: left out
      }
    }
  }
  return { name: err.name, message: err.message, fields };
}
