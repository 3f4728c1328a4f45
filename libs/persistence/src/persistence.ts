import { type Database, type DatabaseMode, type DatabaseOptions, openDatabase } from './database';
import type { AppliedMigrations } from './migrate';
import { type IngestOptions, IngestRepository } from './ingest/ingest.repository';
import { AdminTokenRepository } from './registry/admin-token.repository';
import { CommunityRepository } from './registry/community.repository';
import { DeadLetterRepository } from './registry/dead-letter.repository';
import { DeviceRepository } from './registry/device.repository';
import { ResidentRepository } from './registry/resident.repository';

/** Everything the gateway asks of storage: repositories, nothing of Prisma or SQL. */
export interface Persistence {
  readonly mode: DatabaseMode;
  readonly migrations: AppliedMigrations;
  readonly communities: CommunityRepository;
  readonly residents: ResidentRepository;
  readonly devices: DeviceRepository;
  readonly deadLetters: DeadLetterRepository;
  readonly adminTokens: AdminTokenRepository;
  readonly ingest: IngestRepository;
  ping(): Promise<void>;
  close(): Promise<void>;
}

export interface PersistenceOptions extends DatabaseOptions {
  ingest?: Omit<IngestOptions, 'now'>;
}

/** The repositories over one database, in this thread. */
export function repositoriesOver(db: Database, options: PersistenceOptions): Persistence {
  return {
    mode: db.mode,
    migrations: db.migrations,
    communities: new CommunityRepository(db.prisma),
    residents: new ResidentRepository(db.prisma),
    devices: new DeviceRepository(db.prisma),
    deadLetters: new DeadLetterRepository(db.prisma),
    adminTokens: new AdminTokenRepository(db.prisma),
    ingest: new IngestRepository(db, options.ingest),
    ping: () => db.ping(),
    close: () => db.close(),
  };
}

export async function openPersistence(options: PersistenceOptions): Promise<Persistence> {
  return repositoriesOver(await openDatabase(options), options);
}
