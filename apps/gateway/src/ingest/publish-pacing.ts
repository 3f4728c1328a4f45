/** Limits of the scaled link's pacing (broker-link.ts), apart so the configuration can state them without loading MQTT. */

/**
 * MQTT packet identifiers are 16-bit: a client has at most 65,535 in use at
 * once. Half of them leaves room for mqtt.js's own (subscribe, unsubscribe).
 */
export const MAX_UNCONFIRMED_PUBLISHES = 65_536 / 2;

/**
 * One group-commit queue's worth (INGEST_MAX_QUEUE's default): steady load
 * keeps at most one batch (512) waiting, so only an overloaded broker reaches it.
 */
export const DEFAULT_MAX_UNCONFIRMED_PUBLISHES = 4096;
