import { z } from 'zod';

/**
 * Device protocol v1 payloads (shared/PROTOCOL.md). These schemas are the single
 * source of truth: the gateway, the edge bridge and the simulators validate with
 * them, the fixtures are checked against them and docs/asyncapi.yaml is generated
 * from them. Unknown fields are ignored (z.object strips them) for forward
 * compatibility; missing or ill-typed required fields are invalid.
 */

/** Payloads are UTF-8 JSON objects of at most 8 KiB. */
export const MAX_PAYLOAD_BYTES = 8 * 1024;

/** RFC 3339 UTC with milliseconds, e.g. 2026-11-23T08:15:30.123Z. */
export const timestampSchema = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/, 'must be RFC 3339 UTC with milliseconds, e.g. 2026-11-23T08:15:30.123Z')
  // Date.parse alone accepts 2026-02-30 and T24:00 by rolling over, so demand a round trip.
  .refine((s) => {
    const t = Date.parse(s);
    return !Number.isNaN(t) && new Date(t).toISOString() === s;
  }, 'is not a real date')
  .describe('RFC 3339 UTC time with milliseconds');

/** ISO 14443A UID: upper-case hex of 4, 7 or 10 bytes. */
export const cardUidSchema = z
  .string()
  .regex(/^(?:[0-9A-F]{8}|[0-9A-F]{14}|[0-9A-F]{20})$/, 'must be upper-case hex of 4, 7 or 10 bytes (8, 14 or 20 characters)')
  .describe('card UID, upper-case hex of 4, 7 or 10 bytes');

export const BATTERY_KINDS = ['alkaline', 'lithium', 'button', 'rechargeable', 'other'] as const;
export const batteryKindSchema = z.enum(BATTERY_KINDS);
export type BatteryKind = z.infer<typeof batteryKindSchema>;

export const eventIdSchema = z.string().min(1).max(64).describe('unique per device for ever, e.g. a ULID');

const eventCommon = {
  eventId: eventIdSchema,
  seq: z.number().int().min(0).describe('increasing per device across reboots'),
  occurredAt: timestampSchema.describe('when the resident acted, by the device clock'),
};

export const depositItemSchema = z.object({
  kind: batteryKindSchema,
  count: z.number().int().min(1).max(500),
});

export const depositEventSchema = z.object({
  ...eventCommon,
  type: z.literal('deposit'),
  cardUid: cardUidSchema,
  items: z.array(depositItemSchema).min(1, 'must list at least one item'),
  weightGrams: z.number().min(0).max(50_000).optional().describe('from the scale; absent if the scale failed'),
});

export const tapEventSchema = z.object({
  ...eventCommon,
  type: z.literal('tap'),
  cardUid: cardUidSchema,
});

/** Staff emptied a bin, as its door sensor and scale report it; credits nobody (0 points). */
export const collectionEventSchema = z.object({
  ...eventCommon,
  type: z.literal('collection'),
  weightGrams: z.number().min(0).max(200_000).describe('the weight taken out of the bin, from its scale'),
});

export const deviceEventSchema = z.discriminatedUnion('type', [depositEventSchema, tapEventSchema, collectionEventSchema]);
export type DepositEvent = z.infer<typeof depositEventSchema>;
export type TapEvent = z.infer<typeof tapEventSchema>;
export type CollectionEvent = z.infer<typeof collectionEventSchema>;
export type DeviceEvent = z.infer<typeof deviceEventSchema>;

export const telemetrySchema = z.object({
  fillPercent: z.number().min(0).max(100).optional(),
  powerVolts: z.number().optional(),
  batteryPercent: z.number().min(0).max(100).optional(),
  temperatureC: z.number().optional(),
  rssiDbm: z.number().optional(),
  firmware: z.string().max(64).optional(),
  doorOpen: z.boolean().optional(),
  faults: z.array(z.string().min(1).max(32)).optional().describe('fault codes such as JAM, SCALE_ERROR, READER_ERROR, TAMPER'),
  outboxDepth: z.number().int().min(0).optional().describe('events waiting for an ack'),
  uptimeSeconds: z.number().int().min(0).optional(),
  sentAt: timestampSchema.optional(),
});
export type Telemetry = z.infer<typeof telemetrySchema>;

export const statusSchema = z.object({
  state: z.enum(['online', 'offline']),
  reason: z
    .string()
    .max(32)
    .optional()
    .describe('"shutdown" on an offline status the device publishes itself before a clean disconnect (the last will has none)'),
});
export type Status = z.infer<typeof statusSchema>;

export const ACK_RESULTS = ['credited', 'pending', 'rejected'] as const;

/** Reason codes; shared with DomainError codes and HTTP error codes. */
export const ACK_REASONS = [
  'unknown-card',
  'card-blocked',
  'cap-reached',
  'no-open-activity',
  'already-checked-in',
  'invalid-event',
  'device-inactive',
  'unknown-device',
  'too-late',
  'needs-review',
  'unsupported-event',
  // A deposit that fails the schema gets the most specific of these instead of invalid-event.
  'no-items',
  'unknown-battery-kind',
  'invalid-count',
  'invalid-weight',
  /** occurredAt further ahead than any clock drift (a reset clock): not credited. */
  'clock-ahead',
  'capacity-reached',
] as const;
export type AckReason = (typeof ACK_REASONS)[number];

export const displaySchema = z.object({
  zh: z.string().max(120),
  en: z.string().max(120),
});
export type Display = z.infer<typeof displaySchema>;

export const ackSchema = z
  .object({
    eventId: eventIdSchema,
    result: z.enum(ACK_RESULTS),
    points: z.number().int().describe('0 unless credited or pending'),
    balance: z.number().int().nullable().describe("the resident's balance after this event, or null"),
    // A code, not the closed list: a device must not reject an ack whose reason
    // was added after its firmware (the gateway only sends ACK_REASONS).
    reason: z
      .string()
      .regex(/^[a-z][a-z0-9-]{0,39}$/, 'a lower-case reason code')
      .optional()
      .describe(
        `present unless credited; a credited deposit held to a cap says cap-reached (points: what was credited). Codes today: ${ACK_REASONS.join(', ')}`,
      ),
    display: displaySchema,
  })
  .refine((ack) => (ack.result === 'credited' ? ack.reason === undefined || ack.reason === 'cap-reached' : ack.reason !== undefined), {
    message: 'reason is present when the result is not credited; a credited ack may only say cap-reached',
    path: ['reason'],
  })
  .refine((ack) => ack.result !== 'rejected' || ack.points === 0, {
    message: 'points must be 0 when the result is rejected',
    path: ['points'],
  });
export type Ack = z.infer<typeof ackSchema>;

export const COMMAND_NAMES = ['reboot', 'set-config', 'show-message', 'open-door'] as const;
export type CommandName = (typeof COMMAND_NAMES)[number];

/** What each command's `params` must hold; the gateway checks them before queueing. */
export const commandParamsSchemas = {
  reboot: z.object({ delaySeconds: z.number().int().min(0).max(3600).optional() }),
  'set-config': z
    .object({
      telemetryIntervalSeconds: z.number().int().min(10).max(3600).optional(),
      heartbeatSeconds: z.number().int().min(10).max(3600).optional(),
      displayBrightness: z.number().int().min(0).max(100).optional(),
      volume: z.number().int().min(0).max(100).optional(),
    })
    .refine((c) => Object.keys(c).length > 0, 'set-config needs at least one setting'),
  'show-message': z.object({
    zh: z.string().min(1).max(120),
    en: z.string().max(120).optional(),
    seconds: z.number().int().min(1).max(3600).default(30),
  }),
  'open-door': z.object({ seconds: z.number().int().min(1).max(600).default(60), reason: z.string().max(120).optional() }),
} as const satisfies Record<CommandName, z.ZodType>;

export const commandSchema = z.object({
  commandId: z.string().min(1).max(64),
  name: z.string().min(1).max(32).describe('reboot, set-config, show-message, open-door, ...'),
  params: z.record(z.string(), z.unknown()),
  expiresAt: timestampSchema,
});
export type Command = z.infer<typeof commandSchema>;

export const commandResultSchema = z.object({
  commandId: z.string().min(1).max(64),
  ok: z.boolean(),
  detail: z.string().max(512).optional(),
});
export type CommandResult = z.infer<typeof commandResultSchema>;

/** A factory-fresh device asks for its own credentials (topics.ts: provisionTopic). */
export const provisionRequestSchema = z.object({
  provisioningKey: z.string().min(1).max(64).describe('the public half of the community provisioning key'),
  provisioningSecret: z.string().min(1).max(128).describe('the secret shown once when the key was made'),
  deviceId: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,64}$/, 'must be 1-64 letters, digits, - or _')
    .optional()
    .describe('the id it proposes, e.g. its serial number; the gateway picks one when absent'),
  kind: z.enum(['bin', 'terminal', 'counter']),
  label: z.string().max(100).optional(),
});
export type ProvisionRequest = z.infer<typeof provisionRequestSchema>;

export const PROVISION_REFUSALS = [
  'invalid-request',
  'unknown-key',
  'wrong-secret',
  'key-revoked',
  'key-expired',
  'key-used-up',
  'kind-not-allowed',
  'device-id-taken',
] as const;
export type ProvisionRefusalCode = (typeof PROVISION_REFUSALS)[number];

export const provisionResponseSchema = z.discriminatedUnion('status', [
  z.object({
    status: z.literal('ok'),
    deviceId: z.string(),
    credentials: z
      .object({ username: z.string(), password: z.string(), clientId: z.string() })
      .describe('shown this once: store them, then reconnect with them'),
    topicRoot: z.string(),
  }),
  z.object({
    status: z.literal('refused'),
    reason: z.enum(PROVISION_REFUSALS),
    message: z.string().max(300),
  }),
]);
export type ProvisionResponse = z.infer<typeof provisionResponseSchema>;
