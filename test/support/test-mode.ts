import { randomBytes } from 'node:crypto';

/**
 * The integration suites run two ways (ARCHITECTURE.md): embedded (aedes +
 * PGlite, the default) and scaled, against a real PostgreSQL and MQTT broker,
 * when TEST_DATABASE_URL and TEST_MQTT_URL are set (.ci/run does so).
 */
export const testDatabaseUrl = process.env['TEST_DATABASE_URL'] || undefined;
export const testMqttUrl = process.env['TEST_MQTT_URL'] || undefined;
export const isScaled = Boolean(testDatabaseUrl && testMqttUrl);
export const modeName = isScaled ? 'scaled (PostgreSQL + external broker)' : 'embedded (PGlite + aedes)';

/** Ids unique per run, so suites sharing one broker or database never collide. */
export function uniqueId(prefix: string): string {
  return `${prefix}-${randomBytes(4).toString('hex')}`;
}

/** Tests that need the broker to check credentials and topics (the embedded one does). */
export const itEmbeddedOnly = isScaled ? it.skip : it;
/** Tests of what the gateway itself must do when the broker lets anything through. */
export const itScaledOnly = isScaled ? it : it.skip;
