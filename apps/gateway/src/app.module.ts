import { type DynamicModule, Module, type Provider } from '@nestjs/common';
import { APP_GUARD, APP_INTERCEPTOR } from '@nestjs/core';
import { ThrottlerModule } from '@nestjs/throttler';
import {
  ActivityRepository,
  ActivitySiteRepository,
  AdminTokenRepository,
  AttendanceRepository,
  AuditLogRepository,
  BinRepository,
  BuildingRepository,
  CardRepository,
  CommunityRepository,
  DeadLetterRepository,
  DeviceRepository,
  HouseholdRepository,
  IdempotencyRepository,
  LedgerReportsRepository,
  DepositReportsRepository,
  ExpiryRepository,
  HealthRepository,
  PointsRulesRepository,
  LedgerRepository,
  ResidentImportRepository,
  ResidentRepository,
  StaffRepository,
  SupermarketRepository,
  ProvisioningKeyRepository,
} from '../../../libs/persistence/src';
import { BinWatcher } from './bins/bin-watcher';
import { AlertEngine } from './health/alert-engine';
import { FleetHealth } from './health/fleet-health';
import { GatewayMetrics } from './health/gateway-metrics';
import { AlertsController } from './http/alerts.controller';
import { FleetController } from './http/fleet.controller';
import { MetricsAccess, MetricsController } from './http/metrics.controller';
import { WebhooksController } from './http/webhooks.controller';
import { ActivitiesController } from './http/activities.controller';
import { SitesController } from './http/sites.controller';
import { ActorCache } from './http/actor-cache';
import { AdminAuthGuard } from './http/admin-auth.guard';
import { apiThrottlerOptions } from './http/api-rate-limit';
import { ApiThrottlerGuard } from './http/api-throttler.guard';
import { AuditLogController } from './http/audit-log.controller';
import { AuditInterceptor, GATEWAY_LOGGER } from './http/audit.interceptor';
import { BinsController } from './http/bins.controller';
import { CardsController } from './http/cards.controller';
import { CommunitiesController } from './http/communities.controller';
import { BrokerControl, DevicesController } from './http/devices.controller';
import { HealthController, HealthProbe } from './http/health.controller';
import { HeldDepositClaims, LedgerHeldDepositClaims } from './http/held-deposit-claims';
import { HouseholdsController } from './http/households.controller';
import { IdempotencyInterceptor } from './http/idempotency.interceptor';
import { ImportsController } from './http/imports.controller';
import { ExpiryController } from './http/expiry.controller';
import { PointsRulesController } from './http/points-rules.controller';
import { LedgerController } from './http/ledger.controller';
import { ReportsController } from './http/reports.controller';
import { DepositReportsController } from './http/deposit-reports.controller';
import { ResidentsController } from './http/residents.controller';
import { SessionController } from './http/session.controller';
import { StaffController } from './http/staff.controller';
import { SupermarketController } from './http/supermarket.controller';
import { TokenAuthenticator } from './http/token-authenticator';
import { DeviceLivenessTracker } from './ingest/device-liveness';
import { DeviceMessagesController } from './ingest/device-messages.controller';
import { IngestService } from './ingest/ingest.service';
import type { Logger } from './logging/logger';
import { DeviceCredentials } from './registry/device-credentials';
import { ResidentImportService } from './registry/resident-import.service';
import { AuthFailureTracker } from './fleet/auth-failures';
import { DeviceAccess } from './fleet/device-access';
import { DeviceCommandService } from './fleet/device-commands.service';
import { BrokerAuthController, BrokerAuthSettings } from './http/broker-auth.controller';
import { DeviceCommandsController } from './http/device-commands.controller';
import { DeviceFleetController } from './http/device-fleet.controller';
import { ProvisioningKeysController } from './http/provisioning-keys.controller';

/** Everything built before Nest starts (database, broker, transport), handed in as values. */
export interface GatewayRuntime {
  communities: CommunityRepository;
  residents: ResidentRepository;
  buildings: BuildingRepository;
  households: HouseholdRepository;
  cards: CardRepository;
  residentImports: ResidentImportRepository;
  devices: DeviceRepository;
  deadLetters: DeadLetterRepository;
  adminTokens: AdminTokenRepository;
  staff: StaffRepository;
  auditLog: AuditLogRepository;
  idempotency: IdempotencyRepository;
  /** API calls per token (or caller address) and minute: API_RATE_LIMIT_PER_MINUTE. */
  rateLimitPerMinute: number;
  logger: Logger;
  credentials: DeviceCredentials;
  liveness: DeviceLivenessTracker;
  ingest: IngestService;
  brokerControl: BrokerControl;
  health: HealthProbe;
  ledger: LedgerRepository;
  expiry: ExpiryRepository;
  pointsRules: PointsRulesRepository;
  reports: LedgerReportsRepository;
  depositReports: DepositReportsRepository;
  supermarket: SupermarketRepository;
  bins: BinRepository;
  binWatcher: BinWatcher;
  /** Device health, alerts, metrics (issue #6). */
  healthStore: HealthRepository;
  fleetHealth: FleetHealth;
  alertEngine: AlertEngine;
  metrics: GatewayMetrics;
  metricsAccess: MetricsAccess;
  activities: ActivityRepository;
  activitySites: ActivitySiteRepository;
  /** Device fleet (issue #6, part A). */
  deviceAccess: DeviceAccess;
  deviceCommands: DeviceCommandService;
  provisioningKeys: ProvisioningKeyRepository;
  authFailures: AuthFailureTracker;
  brokerAuth: BrokerAuthSettings;
  attendance: AttendanceRepository;
}

@Module({})
export class AppModule {
  static forRoot(runtime: GatewayRuntime): DynamicModule {
    const providers: Provider[] = [
      { provide: CommunityRepository, useValue: runtime.communities },
      { provide: ResidentRepository, useValue: runtime.residents },
      { provide: BuildingRepository, useValue: runtime.buildings },
      { provide: HouseholdRepository, useValue: runtime.households },
      { provide: CardRepository, useValue: runtime.cards },
      { provide: ResidentImportRepository, useValue: runtime.residentImports },
      // Replaced by the ledger's claim of held deposits; until then a bind claims nothing.
      { provide: HeldDepositClaims, useValue: new LedgerHeldDepositClaims(runtime.ledger) },
      ResidentImportService,
      { provide: DeviceRepository, useValue: runtime.devices },
      { provide: DeadLetterRepository, useValue: runtime.deadLetters },
      { provide: AdminTokenRepository, useValue: runtime.adminTokens },
      { provide: StaffRepository, useValue: runtime.staff },
      { provide: AuditLogRepository, useValue: runtime.auditLog },
      { provide: IdempotencyRepository, useValue: runtime.idempotency },
      { provide: GATEWAY_LOGGER, useValue: runtime.logger },
      { provide: ActorCache, useValue: new ActorCache() },
      {
        provide: TokenAuthenticator,
        useFactory: (adminTokens: AdminTokenRepository, staff: StaffRepository, cache: ActorCache) =>
          new TokenAuthenticator({ adminTokens, staff, cache }),
        inject: [AdminTokenRepository, StaffRepository, ActorCache],
      },
      // In this order: the rate limit counts calls with a bad token or none (by address) before they are refused.
      { provide: APP_GUARD, useClass: ApiThrottlerGuard },
      // Every HTTP route needs a token and @Roles unless @Public(), even one whose controller forgets @UseGuards.
      { provide: APP_GUARD, useClass: AdminAuthGuard },
      // In this order: a replayed Idempotency-Key answer never reaches the audit interceptor.
      { provide: APP_INTERCEPTOR, useClass: IdempotencyInterceptor },
      { provide: APP_INTERCEPTOR, useClass: AuditInterceptor },
      { provide: DeviceCredentials, useValue: runtime.credentials },
      { provide: DeviceLivenessTracker, useValue: runtime.liveness },
      { provide: IngestService, useValue: runtime.ingest },
      { provide: BrokerControl, useValue: runtime.brokerControl },
      { provide: HealthProbe, useValue: runtime.health },
      { provide: LedgerRepository, useValue: runtime.ledger },
      { provide: ExpiryRepository, useValue: runtime.expiry },
      { provide: PointsRulesRepository, useValue: runtime.pointsRules },
      { provide: LedgerReportsRepository, useValue: runtime.reports },
      { provide: DepositReportsRepository, useValue: runtime.depositReports },
      { provide: SupermarketRepository, useValue: runtime.supermarket },
      { provide: BinRepository, useValue: runtime.bins },
      { provide: BinWatcher, useValue: runtime.binWatcher },
      { provide: HealthRepository, useValue: runtime.healthStore },
      { provide: FleetHealth, useValue: runtime.fleetHealth },
      { provide: AlertEngine, useValue: runtime.alertEngine },
      { provide: GatewayMetrics, useValue: runtime.metrics },
      { provide: MetricsAccess, useValue: runtime.metricsAccess },
      { provide: ActivityRepository, useValue: runtime.activities },
      { provide: ActivitySiteRepository, useValue: runtime.activitySites },
      { provide: DeviceAccess, useValue: runtime.deviceAccess },
      { provide: DeviceCommandService, useValue: runtime.deviceCommands },
      { provide: ProvisioningKeyRepository, useValue: runtime.provisioningKeys },
      { provide: AuthFailureTracker, useValue: runtime.authFailures },
      { provide: BrokerAuthSettings, useValue: runtime.brokerAuth },
      { provide: AttendanceRepository, useValue: runtime.attendance },
    ];
    return {
      module: AppModule,
      imports: [ThrottlerModule.forRoot(apiThrottlerOptions(runtime.rateLimitPerMinute))],
      controllers: [
        SessionController,
        StaffController,
        AuditLogController,
        CommunitiesController,
        ResidentsController,
        HouseholdsController,
        CardsController,
        ImportsController,
        DevicesController,
        HealthController,
        DeviceMessagesController,
        LedgerController,
        ExpiryController,
        PointsRulesController,
        ReportsController,
        DepositReportsController,
        SupermarketController,
        BinsController,
        // Before FleetController: its GET fleet/:deviceId would take GET fleet/auth-failures.
        DeviceFleetController,
        FleetController,
        AlertsController,
        WebhooksController,
        MetricsController,
        SitesController,
        ActivitiesController,
        ProvisioningKeysController,
        DeviceCommandsController,
        BrokerAuthController,
      ],
      providers,
    };
  }
}
