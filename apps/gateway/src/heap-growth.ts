import { setFlagsFromString } from 'node:v8';
import type { GatewayConfig } from './config/gateway-config';

/**
 * How far V8 lets a heap outgrow what survived its last full collection
 * before collecting again, for a gateway that holds the broker or the
 * database itself. Left to itself V8 chose up to about 4x under the
 * allocation rate of an overload (resent events, their acks): the embedded
 * gateway's RSS reached 1.75x its steady value though what was alive stayed
 * under 70 MB (heap snapshot). At 1.25x it stayed at 1.31x for about 6 % more
 * CPU per event (`npm run bench`, scenario 5).
 *
 * A scaled gateway (external broker and PostgreSQL) keeps V8's default: there
 * the broker link takes events only as fast as the broker takes the acks, so
 * the backlog waits in the broker, and the bound cost more than it saved.
 * Three alternating saturated runs each (7 Dec): V8's garbage-collection
 * helper threads 0.044-0.051 s of CPU per 1,000 events against 0.072-0.080 s
 * with the bound, p99 at 1,000 events/s 22-40 ms against 66-76 ms, RSS about
 * 100 MiB more; overload 2x for 60 s stayed at 1.17x steady.
 */
export const HEAP_GROWING_PERCENT = 25;

/** The `--heap-growing-percent` to set, or null to leave V8's (scaled mode, or one given to node). */
export function heapGrowingPercentFor(
  config: Pick<GatewayConfig, 'MQTT_URL' | 'DATABASE_URL'>,
  execArgv: readonly string[],
): number | null {
  if (execArgv.some((arg) => arg.startsWith('--heap-growing-percent') || arg.startsWith('--heap_growing_percent'))) return null;
  if (config.MQTT_URL !== undefined && config.DATABASE_URL !== undefined) return null;
  return HEAP_GROWING_PERCENT;
}

/** Call before the database worker starts: V8's flags are per process, and a worker's heap takes them at its start. */
export function boundHeapGrowth(config: Pick<GatewayConfig, 'MQTT_URL' | 'DATABASE_URL'>): void {
  const percent = heapGrowingPercentFor(config, process.execArgv);
  if (percent !== null) setFlagsFromString(`--heap-growing-percent=${percent}`);
}
