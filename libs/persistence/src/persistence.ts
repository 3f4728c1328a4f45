import { type Database, type DatabaseMode, type DatabaseOptions, openDatabase } from './database';
import type { AppliedMigrations } from './migrate';
import { BinRepository } from './bins/bin.repository';
import { HealthRepository } from './health/health.repository';
import { ActivityRepository } from './activities/activity.repository';
import { ActivitySiteRepository } from './activities/activity-site.repository';
import { AttendanceRepository } from './activities/attendance.repository';
import { type IngestOptions, IngestRepository } from './ingest/ingest.repository';
import { PointsRulesRepository } from './bins/points-rules.repository';
import { ExpiryRepository } from './ledger/expiry.repository';
import { LedgerRepository } from './ledger/ledger.repository';
import { LedgerReportsRepository } from './reports/ledger-reports.repository';
import { DepositReportsRepository } from './reports/deposit-reports.repository';
import { AdminTokenRepository } from './registry/admin-token.repository';
import { AuditLogRepository } from './registry/audit-log.repository';
import { BuildingRepository } from './registry/building.repository';
import { CardRepository } from './registry/card.repository';
import { CommunityRepository } from './registry/community.repository';
import { DeadLetterRepository } from './registry/dead-letter.repository';
import { DeviceRepository } from './registry/device.repository';
import { HouseholdRepository } from './registry/household.repository';
import { IdempotencyRepository } from './registry/idempotency.repository';
import { ResidentImportRepository } from './registry/resident-import.repository';
import { ResidentRepository } from './registry/resident.repository';
import { StaffRepository } from './registry/staff.repository';
import { SupermarketRepository } from './supermarket/supermarket.repository';
import { HousekeepingRepository } from './jobs/housekeeping.repository';
import { JobLeaseRepository } from './jobs/job-lease.repository';
import { DeviceCommandRepository } from './fleet/device-command.repository';
import { ProvisioningKeyRepository } from './fleet/provisioning-key.repository';

/** Everything the gateway asks of storage: repositories, nothing of Prisma or SQL. */
export interface Persistence {
  readonly mode: DatabaseMode;
  readonly migrations: AppliedMigrations;
  readonly communities: CommunityRepository;
  readonly residents: ResidentRepository;
  readonly buildings: BuildingRepository;
  readonly households: HouseholdRepository;
  readonly cards: CardRepository;
  readonly residentImports: ResidentImportRepository;
  readonly devices: DeviceRepository;
  readonly deadLetters: DeadLetterRepository;
  readonly adminTokens: AdminTokenRepository;
  readonly staff: StaffRepository;
  readonly auditLog: AuditLogRepository;
  readonly idempotency: IdempotencyRepository;
  readonly ingest: IngestRepository;
  readonly ledger: LedgerRepository;
  readonly expiry: ExpiryRepository;
  readonly pointsRules: PointsRulesRepository;
  readonly reports: LedgerReportsRepository;
  readonly depositReports: DepositReportsRepository;
  readonly supermarket: SupermarketRepository;
  readonly bins: BinRepository;
  /** Leases of the background jobs that run once across replicas (issue #8). */
  readonly jobLeases: JobLeaseRepository;
  /** Prunes Idempotency-Key answers and deposit tallies no longer needed. */
  readonly housekeeping: HousekeepingRepository;
  readonly health: HealthRepository;
  readonly activities: ActivityRepository;
  readonly activitySites: ActivitySiteRepository;
  readonly deviceCommands: DeviceCommandRepository;
  readonly provisioningKeys: ProvisioningKeyRepository;
  readonly attendance: AttendanceRepository;
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
    buildings: new BuildingRepository(db.prisma),
    households: new HouseholdRepository(db.prisma),
    cards: new CardRepository(db.prisma),
    residentImports: new ResidentImportRepository(db.prisma),
    devices: new DeviceRepository(db.prisma),
    deadLetters: new DeadLetterRepository(db.prisma),
    adminTokens: new AdminTokenRepository(db.prisma),
    staff: new StaffRepository(db.prisma),
    auditLog: new AuditLogRepository(db.prisma),
    idempotency: new IdempotencyRepository(db.prisma),
    ingest: new IngestRepository(db, options.ingest),
    ledger: new LedgerRepository(db),
    expiry: new ExpiryRepository(db, new LedgerRepository(db)),
    pointsRules: new PointsRulesRepository(db),
    reports: new LedgerReportsRepository(db),
    depositReports: new DepositReportsRepository(db),
    // LedgerRepository holds no state: its own instance posts into the supermarket's transactions.
    supermarket: new SupermarketRepository(db, new LedgerRepository(db)),
    bins: new BinRepository(db),
    jobLeases: new JobLeaseRepository(db),
    housekeeping: new HousekeepingRepository(db),
    health: new HealthRepository(db),
    activities: new ActivityRepository(db),
    attendance: new AttendanceRepository(db, new LedgerRepository(db)),
    activitySites: new ActivitySiteRepository(db.prisma),
    deviceCommands: new DeviceCommandRepository(db.prisma),
    provisioningKeys: new ProvisioningKeyRepository(db.prisma),
    ping: () => db.ping(),
    close: () => db.close(),
  };
}

export async function openPersistence(options: PersistenceOptions): Promise<Persistence> {
  return repositoriesOver(await openDatabase(options), options);
}
