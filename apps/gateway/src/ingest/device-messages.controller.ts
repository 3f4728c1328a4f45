import { Controller, Inject } from '@nestjs/common';
import { EventPattern, Payload } from '@nestjs/microservices';
import { IngestService } from './ingest.service';
import type { DeviceMessage } from './mqtt-ingest.server';

/** Thin adapter: the MQTT transport routes each device channel here. */
@Controller()
export class DeviceMessagesController {
  constructor(@Inject(IngestService) private readonly ingest: IngestService) {}

  @EventPattern<string>('events')
  onEvent(@Payload() message: DeviceMessage): Promise<void> {
    return this.ingest.receiveEvent(message);
  }

  @EventPattern<string>('telemetry')
  onTelemetry(@Payload() message: DeviceMessage): void {
    this.ingest.receiveTelemetry(message);
  }

  @EventPattern<string>('status')
  onStatus(@Payload() message: DeviceMessage): void {
    this.ingest.receiveStatus(message);
  }
}
