import 'reflect-metadata';
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { NestFactory } from '@nestjs/core';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { type Persistence, type PersistenceOptions, openPersistence, openPersistenceInWorker } from '../../../libs/persistence/src';
import { allDevicesFilter, sharedFilter } from '../../../libs/protocol/src';
import { type AdminTokenState, bootstrapAdminToken } from './admin-token.bootstrap';
import { AppModule } from './app.module';
import { BinWatcher } from './bins/bin-watcher';
import { ExpiryJob } from './jobs/expiry.job';
import { AttendanceCloseJob } from './jobs/attendance-close.job';
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
      ingest: { latenessMs: config.LATENESS_DAYS * 24 * 60 * 60 * 1000 },
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
    const binWatcher = new BinWatcher(db.bins, logger);

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
      });
      await broker.start();
      const started = broker;
      cleanups.push(() => started.stop());
      mqttUrl = `mqtt://127.0.0.1:${broker.port}`;
    } else {
      mqttUrl = config.MQTT_URL!;
    }

    const channels = ['events', 'telemetry', 'status'] as const;
    // Embedded: the gateway sits inside the broker. Scaled: replicas share device
    // traffic through an MQTT 5 shared subscription on the external broker.
    const link: BrokerLink = broker
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
        );
    const transport = new MqttIngestServer(
      link,
      channels.map((c) => (broker ? allDevicesFilter(c) : sharedFilter(config.MQTT_SHARE_GROUP, allDevicesFilter(c)))),
    );

    const ingest = new IngestService(db.ingest, transport, deadLetters, liveness, logger, {
      maxBatch: config.INGEST_MAX_BATCH,
      maxWaitMs: config.INGEST_MAX_WAIT_MS,
      maxQueue: config.INGEST_MAX_QUEUE,
      concurrency: config.INGEST_CONCURRENCY ?? (db.mode === 'server' ? 2 : 1),
      telemetryObserver: binWatcher,
    });

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
        activities: db.activities,
        activitySites: db.activitySites,
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
    // Stop reading from the broker first, then let queued events commit and ack.
    cleanups.push(async () => {
      await transport.close();
      await ingest.drain();
      await binWatcher.idle();
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
    const expiryJob = new ExpiryJob(db.expiry, logger);
    expiryJob.start();
    cleanups.push(() => expiryJob.stop());
    const attendanceCloseJob = new AttendanceCloseJob(db.attendance, logger, config.ATTENDANCE_CLOSE_SECONDS * 1000);
    attendanceCloseJob.start();
    cleanups.push(() => attendanceCloseJob.stop());
    return {
      httpPort,
      mqttPort: broker?.port ?? null,
      mqttUrl,
      databaseMode: db.mode,
      adminToken,
      migrationsApplied: db.migrations.applied,
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}
