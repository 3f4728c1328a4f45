import type { Status, Telemetry } from '../../../../libs/protocol/src';
import type { IngestObserver } from '../ingest/ingest.service';
import { ackOutcome } from './gateway-metrics';
import type { FleetHealth } from './fleet-health';

/** Feeds device health from the ingest path: activity, telemetry, status with its reason, each event's outcome. */
export class HealthIngestObserver implements IngestObserver {
  constructor(private readonly health: FleetHealth) {}

  eventReceived(deviceId: string, receivedAt: Date, occurredAt: Date | undefined): void {
    this.health.sawEvent(deviceId, receivedAt, occurredAt);
  }

  telemetryReceived(deviceId: string, telemetry: Telemetry, receivedAt: Date): void {
    this.health.sawTelemetry(deviceId, telemetry, receivedAt);
  }

  statusReceived(deviceId: string, status: Status, receivedAt: Date, isRetained: boolean): void {
    this.health.sawStatus(deviceId, status.state, receivedAt, isRetained, status.reason === 'shutdown');
  }

  ackPublished(deviceId: string, eventId: string, ack: string): void {
    const { result, reason } = ackOutcome(ack);
    this.health.sawOutcome(deviceId, eventId, result, reason === 'none' ? null : reason);
  }
}
