import 'reflect-metadata';
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { NestFactory } from '@nestjs/core';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { type Persistence, type PersistenceOptions, openPersistence, openPersistenceInWorker } from '../../../libs/persistence/src';
import { ALL_PROVISION_REQUESTS_FILTER, allDevicesFilter, sharedFilter } from '../../../libs/protocol/src';
import { type AdminTokenState, bootstrapAdminToken } from './admin-token.bootstrap';
import { AppModule } from './app.module';
import { BinWatcher } from './bins/bin-watcher';
import { AlertEngine } from './health/alert-engine';
import { FleetHealth } from './health/fleet-health';
import { GatewayMetrics } from './health/gateway-metrics';
import { HealthIngestObserver } from './health/health-ingest-observer';
import { WebhookNotifier } from './health/webhook-notifier';
import { ExpiryJob } from './jobs/expiry.job';
import { HousekeepingJob } from './jobs/housekeeping.job';
import { AttendanceCloseJob } from './jobs/attendance-close.job';
import { ConnectRateLimiter } from './broker/connect-rate';
import { EmbeddedBroker } from './broker/embedded-broker';
import { type GatewayConfig, isEmbeddedBroker } from './config/gateway-config';
import { ApiErrorFilter } from './http/api-error.filter';
import { CSV_CONTENT_TYPES } from './http/imports.controller';
import { DeadLetterWriter } from './ingest/dead-letter.writer';
import { DeviceLivenessTracker } from './ingest/device-liveness';
import { IngestService } from './ingest/ingest.service';
import { type BrokerLink, MqttClientLink } from './ingest/broker-link';
import { MqttIngestServer } from './ingest/mqtt-ingest.server';
import { type Logger, NestPinoLogger } from './logging/logger';
import { DeviceCredentials } from './registry/device-credentials';
import { IMPORT_MAX_BYTES } from './registry/resident-import.service';
import { serveWebPages } from './web/static-pages';
import { AuthFailureTracker } from './fleet/auth-failures';
import { DeviceAccess } from './fleet/device-access';
import { DeviceCommandService } from './fleet/device-commands.service';
import { DynsecSync } from './broker/dynsec-sync';
import { withFleetRoutes } from './fleet/fleet-link';
import { ProvisioningService } from './fleet/provisioning.service';

export class HttpPortInUseError extends Error {
  constructor(readonly port: number) {
    super(`port ${port} is in use`);
    this.name = 'HttpPortInUseError';
  }
}

export interface RunningGateway {
  httpPort: number;
  /** The embedded broker's port, or null with an external broker. */
  mqttPort: number | null;
  mqttUrl: string;
  databaseMode: Persistence['mode'];
  adminToken: AdminTokenState;
  migrationsApplied: string[];
  /** Scaled mode: the next device message waits while this many acks and commands await the external broker; null when embedded. */
  maxUnconfirmedPublishes: number | null;
  stop(): Promise<void>;
}

/**
 * Composes the gateway: database (migrated), broker (embedded or external), the
 * MQTT ingest transport and the HTTP API. The path from "message received" to
 * "ack published" is the same in both modes; only the broker and the database
 * adapter differ.
 */
export async function startGateway(config: GatewayConfig, logger: Logger): Promise<RunningGateway> {
  const cleanups: (() => Promise<void>)[] = [];
  const stop = async () => {
    for (const cleanup of cleanups.splice(0).reverse()) {
      await cleanup().catch((err: unknown) => logger.error({ err }, 'error while stopping'));
    }
  };
  try {
    const persistenceOptions: PersistenceOptions = {
      databaseUrl: config.DATABASE_URL,
      dataDir: config.DATA_DIR,
      poolSize: config.DATABASE_POOL_SIZE,
      statementTimeoutMs: config.DATABASE_STATEMENT_TIMEOUT_MS,
      lockTimeoutMs: config.DATABASE_LOCK_TIMEOUT_MS,
      transactionAttempts: config.DATABASE_TRANSACTION_ATTEMPTS,
      ingest: { latenessMs: config.LATENESS_DAYS * 24 * 60 * 60 * 1000, futureLimitMs: config.CLOCK_AHEAD_LIMIT_HOURS * 60 * 60 * 1000 },
    };
    // Embedded: PGlite runs in this process, so it gets a thread of its own; a
    // PostgreSQL server already does its work in another process.
    const db: Persistence = config.DATABASE_URL
      ? await openPersistence(persistenceOptions)
      : await openPersistenceInWorker(persistenceOptions);
    cleanups.push(() => db.close());
    if (db.migrations.applied.length > 0) logger.info({ applied: db.migrations.applied }, 'migrations applied');

    const adminTokens = db.adminTokens;
    const devices = db.devices;
    const deadLetterRepository = db.deadLetters;
    const deadLetters = new DeadLetterWriter(deadLetterRepository, logger);
    cleanups.push(() => deadLetters.flush());
    const credentials = new DeviceCredentials(devices);
    const liveness = new DeviceLivenessTracker();
    // Device health, alerts and webhooks (issue #6): alerts first, health feeds them.
    const alertEngine = new AlertEngine(db.health, logger);
    await alertEngine.start();
    const webhooks = new WebhookNotifier(logger, {
      envUrls: config.WEBHOOK_URLS,
      targets: () => db.health.webhooks(),
      maxQueue: config.WEBHOOK_MAX_QUEUE,
      maxAttempts: config.WEBHOOK_MAX_ATTEMPTS,
      retryBaseMs: config.WEBHOOK_RETRY_BASE_MS,
      timeoutMs: config.WEBHOOK_TIMEOUT_MS,
    });
    alertEngine.subscribe((kind, alert) => webhooks.notify(kind, alert));
    cleanups.push(() => Promise.resolve(webhooks.stop()));
    const fleetHealth = new FleetHealth(db.health, alertEngine, logger, {
      heartbeatOverrideSeconds: config.HEALTH_HEARTBEAT_SECONDS,
      offlineAlertOverrideSeconds: config.ALERT_OFFLINE_SECONDS,
      flushMs: config.HEALTH_FLUSH_MS,
      tickMs: config.HEALTH_TICK_MS,
      sampleSeconds: config.HEALTH_SAMPLE_SECONDS,
      retentionDays: config.HEALTH_RETENTION_DAYS,
    });
    // Read before the first retained status arrives; the last flush runs after ingest has drained.
    await fleetHealth.start();
    cleanups.push(() => fleetHealth.stop());
    const binWatcher = new BinWatcher(db.bins, logger, { alerts: alertEngine });
    const authFailures = new AuthFailureTracker({
      windowSeconds: config.AUTH_FAILURE_WINDOW_SECONDS,
      threshold: config.AUTH_FAILURE_THRESHOLD,
    });
    // Repeated failed logins open an alert (an operator resolves it once the cause is known).
    authFailures.on('repeated', (r) => {
      logger.warn(r, 'repeated failed logins');
      const from = r.clientId !== null ? `client id ${r.clientId}` : `address ${r.address}`;
      alertEngine.raise({
        subject: r.clientId ?? `address:${r.address}`,
        cause: 'auth-failures',
        severity: 'warning',
        value: r.count,
        message: `${r.count} failed logins within ${r.windowSeconds} s from ${from}`,
      });
    });

    let broker: EmbeddedBroker | null = null;
    let mqttUrl: string;
    const embedded = isEmbeddedBroker(config);
    if (embedded) {
      broker = new EmbeddedBroker({
        host: config.MQTT_HOST,
        port: config.MQTT_PORT,
        credentials,
        logger,
        deadLetter: (letter) => deadLetters.write(letter),
        onAuthFailure: (failure) => authFailures.record(failure),
        ...(config.MQTT_CONNECTS_PER_SECOND > 0
          ? { connectRate: new ConnectRateLimiter(config.MQTT_CONNECTS_PER_SECOND, config.MQTT_CONNECT_BURST) }
          : {}),
      });
      await broker.start();
      const started = broker;
      cleanups.push(() => started.stop());
      mqttUrl = `mqtt://127.0.0.1:${broker.port}`;
    } else {
      mqttUrl = config.MQTT_URL!;
    }

    // Scaled mode with Mosquitto's dynamic security: its clients follow the registry (full reconcile now, then each change).
    let dynsec: DynsecSync | null = null;
    if (!embedded && config.MQTT_DYNSEC) {
      dynsec = new DynsecSync({ url: mqttUrl, username: config.MQTT_USERNAME, password: config.MQTT_PASSWORD, logger });
      await dynsec.start();
      const started = dynsec;
      cleanups.push(() => started.stop());
      await dynsec.reconcile(await devices.brokerStates());
    }

    const channels = ['events', 'telemetry', 'status', 'command-results'] as const;
    // Embedded: the gateway sits inside the broker. Scaled: replicas share device
    // traffic through an MQTT 5 shared subscription on the external broker.
    const deviceLink: BrokerLink = broker
      ? broker.inProcessLink()
      : new MqttClientLink(
          mqttUrl,
          {
            clientId: `jifen-gateway-${randomBytes(6).toString('hex')}`,
            protocolVersion: 5,
            clean: true,
            reconnectPeriod: 1000,
            connectTimeout: 10_000,
            username: config.MQTT_USERNAME,
            password: config.MQTT_PASSWORD,
          },
          logger,
          config.MQTT_MAX_UNCONFIRMED_PUBLISHES,
        );
    // Fleet traffic (command results, provisioning requests) is taken off the link before the ingest sees it.
    const fleetRoutes = {
      sawDeviceMessage: (deviceId: string, channel: string, payload: Buffer) => deviceCommands.sawDeviceMessage(deviceId, channel, payload),
      commandResult: (deviceId: string, topic: string, payload: Buffer) => deviceCommands.receiveResult(deviceId, topic, payload),
      provisionRequest: (clientId: string, payload: Buffer) => provisioning.receiveRequest(clientId, payload),
    };
    const link = withFleetRoutes(deviceLink, fleetRoutes);
    const filters = [...channels.map((c) => allDevicesFilter(c)), ALL_PROVISION_REQUESTS_FILTER];
    const transport = new MqttIngestServer(
      link,
      filters.map((f) => (broker ? f : sharedFilter(config.MQTT_SHARE_GROUP, f))),
    );
    const deviceAccess = new DeviceAccess({
      credentials,
      forgetDevice: (id) => db.ingest.forgetDevice(id),
      disconnect: (id) => {
        // The status history says why the device went: its credentials, not a will or silence.
        fleetHealth.credentialsRevoked(id);
        return broker?.disconnectDevice(id) ?? false;
      },
      sync: dynsec,
      logger,
    });
    const deviceCommands = new DeviceCommandService({
      repository: db.deviceCommands,
      publish: (topic, payload) => transport.publish(topic, payload),
      deadLetters,
      isOnline: (id) => (broker ? broker.isConnected(id) : liveness.get(id)?.state === 'online'),
      logger,
    });
    const provisioning = new ProvisioningService({
      keys: db.provisioningKeys,
      access: deviceAccess,
      publish: (topic, payload) => transport.publish(topic, payload),
      onAuthFailure: (failure) => authFailures.record(failure),
      logger,
    });

    let ingestRef: IngestService | null = null;
    const brokerRef = broker;
    const metrics = new GatewayMetrics({
      ingestQueueDepth: () => ingestRef?.stats.queued ?? 0,
      devices: () => fleetHealth.counts,
      brokerConnections: () => brokerRef?.connectedClients ?? null,
      alertsOpen: () => alertEngine.openCount,
      webhookQueueDepth: () => webhooks.stats.queued,
    });
    const ingest = new IngestService(db.ingest, transport, deadLetters, liveness, logger, {
      maxBatch: config.INGEST_MAX_BATCH,
      maxWaitMs: config.INGEST_MAX_WAIT_MS,
      maxQueue: config.INGEST_MAX_QUEUE,
      concurrency: config.INGEST_CONCURRENCY ?? (db.mode === 'server' ? 2 : 1),
      telemetryObserver: binWatcher,
      observers: [new HealthIngestObserver(fleetHealth), metrics],
    });

    ingestRef = ingest;

    const app = await NestFactory.create<NestExpressApplication>(
      AppModule.forRoot({
        communities: db.communities,
        residents: db.residents,
        buildings: db.buildings,
        households: db.households,
        cards: db.cards,
        residentImports: db.residentImports,
        devices,
        deadLetters: deadLetterRepository,
        adminTokens,
        staff: db.staff,
        auditLog: db.auditLog,
        idempotency: db.idempotency,
        rateLimitPerMinute: config.API_RATE_LIMIT_PER_MINUTE,
        logger,
        credentials,
        liveness,
        ingest,
        brokerControl: { disconnectDevice: (id) => broker?.disconnectDevice(id) ?? false },
        ledger: db.ledger,
        expiry: db.expiry,
        pointsRules: db.pointsRules,
        reports: db.reports,
        depositReports: db.depositReports,
        supermarket: db.supermarket,
        bins: db.bins,
        binWatcher,
        healthStore: db.health,
        fleetHealth,
        alertEngine,
        metrics,
        metricsAccess: { mode: config.METRICS_ACCESS, token: config.METRICS_TOKEN },
        activities: db.activities,
        activitySites: db.activitySites,
        deviceAccess,
        deviceCommands,
        provisioningKeys: db.provisioningKeys,
        authFailures,
        brokerAuth: { secret: config.BROKER_AUTH_SECRET, gatewayUsername: config.MQTT_USERNAME, gatewayPassword: config.MQTT_PASSWORD },
        attendance: db.attendance,
        health: {
          check: async () => {
            const database = await db.ping().then(
              () => true,
              () => false,
            );
            return {
              broker: transport.isReady,
              database,
              subscriptions: transport.isReady,
              details: { databaseMode: db.mode, embeddedBroker: embedded, ingest: ingest.stats },
            };
          },
        },
      }),
      { logger: new NestPinoLogger(logger), bodyParser: true },
    );
    cleanups.push(() => app.close());
    app.useBodyParser('json', { limit: '256kb' });
    // CSV uploads (the resident import) arrive as bytes: UTF-8 or Excel's GB18030 is decided there.
    app.useBodyParser('raw', { type: CSV_CONTENT_TYPES, limit: IMPORT_MAX_BYTES });
    app.useGlobalFilters(new ApiErrorFilter(logger));
    serveWebPages(app);
    const openApi = SwaggerModule.createDocument(
      app,
      new DocumentBuilder()
        .setTitle('jifen admin API')
        .setDescription('Communities, residents, cards, devices and the points ledger. Errors: { "error": { "code", "message" } }.')
        .setVersion('1')
        .addBearerAuth()
        .build(),
    );
    SwaggerModule.setup('api/docs', app, openApi, { jsonDocumentUrl: 'api/docs/openapi.json' });

    app.connectMicroservice({ strategy: transport });
    await app.startAllMicroservices();
    // Stop reading from the broker first, then let queued events commit and
    // ack (the link still publishes), then close it.
    cleanups.push(async () => {
      await transport.stopReceiving();
      await ingest.drain();
      await binWatcher.idle();
      await alertEngine.idle();
      await transport.close();
    });

    try {
      await app.listen(config.HTTP_PORT, config.HTTP_HOST);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EADDRINUSE') throw new HttpPortInUseError(config.HTTP_PORT);
      throw err;
    }
    const httpPort = (app.getHttpServer().address() as AddressInfo).port;
    // Last: a first start that fails on a busy port must not make a token that
    // is never shown (the next start would find one and print nothing).
    const adminToken = await bootstrapAdminToken(adminTokens, config.ADMIN_TOKEN);
    await deviceCommands.start();
    cleanups.push(() => deviceCommands.stop());
    const expiryJob = new ExpiryJob(db.expiry, db.jobLeases, logger);
    expiryJob.start();
    cleanups.push(() => expiryJob.stop());
    const housekeeping = new HousekeepingJob(db.housekeeping, db.jobLeases, logger, {
      latenessDays: config.LATENESS_DAYS,
      idempotencyDays: config.IDEMPOTENCY_KEEP_DAYS,
    });
    housekeeping.start();
    cleanups.push(() => housekeeping.stop());
    const attendanceCloseJob = new AttendanceCloseJob(db.attendance, db.jobLeases, logger, config.ATTENDANCE_CLOSE_SECONDS * 1000);
    attendanceCloseJob.start();
    cleanups.push(() => attendanceCloseJob.stop());
    return {
      httpPort,
      mqttPort: broker?.port ?? null,
      mqttUrl,
      databaseMode: db.mode,
      adminToken,
      migrationsApplied: db.migrations.applied,
      maxUnconfirmedPublishes: deviceLink instanceof MqttClientLink ? deviceLink.maxUnconfirmed : null,
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}
