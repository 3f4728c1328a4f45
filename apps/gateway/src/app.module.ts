import { type DynamicModule, Module, type Provider } from '@nestjs/common';
import {
  AdminTokenRepository,
  CommunityRepository,
  DeadLetterRepository,
  DeviceRepository,
  ResidentRepository,
} from '../../../libs/persistence/src';
import { CommunitiesController } from './http/communities.controller';
import { BrokerControl, DevicesController } from './http/devices.controller';
import { HealthController, HealthProbe } from './http/health.controller';
import { ResidentsController } from './http/residents.controller';
import { DeviceLivenessTracker } from './ingest/device-liveness';
import { DeviceMessagesController } from './ingest/device-messages.controller';
import { IngestService } from './ingest/ingest.service';
import { DeviceCredentials } from './registry/device-credentials';

/** Everything built before Nest starts (database, broker, transport), handed in as values. */
export interface GatewayRuntime {
  communities: CommunityRepository;
  residents: ResidentRepository;
  devices: DeviceRepository;
  deadLetters: DeadLetterRepository;
  adminTokens: AdminTokenRepository;
  credentials: DeviceCredentials;
  liveness: DeviceLivenessTracker;
  ingest: IngestService;
  brokerControl: BrokerControl;
  health: HealthProbe;
}

@Module({})
export class AppModule {
  static forRoot(runtime: GatewayRuntime): DynamicModule {
    const providers: Provider[] = [
      { provide: CommunityRepository, useValue: runtime.communities },
      { provide: ResidentRepository, useValue: runtime.residents },
      { provide: DeviceRepository, useValue: runtime.devices },
      { provide: DeadLetterRepository, useValue: runtime.deadLetters },
      { provide: AdminTokenRepository, useValue: runtime.adminTokens },
      { provide: DeviceCredentials, useValue: runtime.credentials },
      { provide: DeviceLivenessTracker, useValue: runtime.liveness },
      { provide: IngestService, useValue: runtime.ingest },
      { provide: BrokerControl, useValue: runtime.brokerControl },
      { provide: HealthProbe, useValue: runtime.health },
    ];
    return {
      module: AppModule,
      controllers: [CommunitiesController, ResidentsController, DevicesController, HealthController, DeviceMessagesController],
      providers,
    };
  }
}
