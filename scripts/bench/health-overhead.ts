/**
 * What device health and metrics add to each event on the ingest path (issue #6):
 * the IngestObserver hooks run for N events (received, committed in batches of
 * 500, acked) and N/10 telemetry readings over 1,000 devices, against a store
 * that writes nothing. Prints nanoseconds per event.
 * Run: npm run build && node dist/scripts/bench/health-overhead.js [--events 200000]
 */
import { FleetHealth } from '../../apps/gateway/src/health/fleet-health';
import { GatewayMetrics } from '../../apps/gateway/src/health/gateway-metrics';
import { HealthIngestObserver } from '../../apps/gateway/src/health/health-ingest-observer';
import type { IngestObserver } from '../../apps/gateway/src/ingest/ingest.service';
import type { Logger } from '../../apps/gateway/src/logging/logger';

const silent = { info() {}, warn() {}, error() {}, debug() {} } as unknown as Logger;
const events = Number(process.argv[process.argv.indexOf('--events') + 1]) || 200_000;
const devices = 1000;

async function main(): Promise<void> {
  const health = new FleetHealth(
    {
      // Registered devices, as in production: their alert rules are known.
      fleet: () =>
        Promise.resolve(
          Array.from({ length: devices }, (_, i) => ({
            id: `bin-${i}`,
            kind: 'bin' as const,
            communityId: 'c',
            label: null,
            isActive: true,
            site: null,
            heartbeatSeconds: null,
            alertRules: {},
            state: 'online' as const,
            stateChangedAt: null,
            lastSeenAt: null,
            lastTelemetry: null,
            lastTelemetryAt: null,
            stats: {},
          })),
        ),
      fleetDevice: () => Promise.resolve(null),
      flush: () => Promise.resolve(),
      pruneTelemetry: () => Promise.resolve(0),
    },
    { reading() {}, presence() {} },
    silent,
    { flushMs: 3_600_000, tickMs: 3_600_000, sampleSeconds: 300, retentionDays: 30 },
  );
  await health.start();
  const metrics = new GatewayMetrics({
    ingestQueueDepth: () => 0,
    devices: () => health.counts,
    brokerConnections: () => null,
    alertsOpen: () => 0,
    webhookQueueDepth: () => 0,
  });
  const sets: [string, IngestObserver[]][] = [
    ['health', [new HealthIngestObserver(health)]],
    ['metrics', [metrics]],
    ['both', [new HealthIngestObserver(health), metrics]],
  ];
  const ack = JSON.stringify({ eventId: 'ev', result: 'credited', points: 6, balance: 120, display: { zh: '积分 +6', en: '+6 points' } });

  const run = (observers: IngestObserver[]) => {
    const started = process.hrtime.bigint();
    for (let i = 0; i < events; i++) {
      const deviceId = `bin-${i % devices}`;
      const at = new Date();
      for (const o of observers) o.eventReceived?.(deviceId, at, at);
      if (i % 10 === 0) for (const o of observers) o.telemetryReceived?.(deviceId, { fillPercent: i % 100, outboxDepth: 0 }, at);
      if (i % 500 === 499) for (const o of observers) o.batchCommitted?.(500, 0.01);
      for (const o of observers) o.ackPublished?.(deviceId, `ev-${i}`, ack, at);
    }
    return Number(process.hrtime.bigint() - started) / events;
  };
  for (const [name, observers] of sets) {
    run(observers); // warm-up
    const perEvent = [run(observers), run(observers), run(observers)].sort((a, b) => a - b);
    process.stdout.write(
      `${name} hooks: ${perEvent.map((n) => n.toFixed(0)).join(' / ')} ns per event (3 runs of ${events}, ${devices} devices, 1 telemetry per 10 events)\n`,
    );
  }
  await health.stop();
}

void main();
