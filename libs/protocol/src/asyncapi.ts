import { z } from 'zod';
import YAML from 'yaml';
import { validFixtures } from './fixtures';
import {
  MAX_PAYLOAD_BYTES,
  ackSchema,
  batteryKindSchema,
  cardUidSchema,
  commandResultSchema,
  collectionEventSchema,
  commandSchema,
  depositEventSchema,
  depositItemSchema,
  displaySchema,
  eventIdSchema,
  provisionRequestSchema,
  provisionResponseSchema,
  statusSchema,
  tapEventSchema,
  telemetrySchema,
  timestampSchema,
} from './payloads';
import {
  DEVICE_ID_PATTERN,
  DEVICE_PUBLISH_CHANNELS,
  PROVISION_ROOT,
  PROVISIONING_USERNAME,
  TOPIC_ROOT,
  type DeviceChannel,
} from './topics';

/*
 * docs/asyncapi.yaml is generated from here so that the document device makers read can
 * never drift from the schemas the gateway validates with. Not exported from index.ts:
 * it needs the `yaml` devDependency, which production code must not pull in.
 */

export const ASYNCAPI_GENERATOR_COMMAND = 'npx tsc -p . && node dist/scripts/generate-asyncapi.js';

type JsonObject = Record<string, unknown>;
type MessageId =
  | 'DepositEvent'
  | 'TapEvent'
  | 'CollectionEvent'
  | 'Telemetry'
  | 'Status'
  | 'Ack'
  | 'Command'
  | 'CommandResult'
  | 'ProvisionRequest'
  | 'ProvisionResponse';

/** Zod schemas that become components/schemas, in document order; shared ones are $ref'd. */
const COMPONENT_SCHEMAS: ReadonlyArray<readonly [string, z.ZodType]> = [
  ['DepositEvent', depositEventSchema],
  ['TapEvent', tapEventSchema],
  ['CollectionEvent', collectionEventSchema],
  ['Telemetry', telemetrySchema],
  ['Status', statusSchema],
  ['Ack', ackSchema],
  ['Command', commandSchema],
  ['CommandResult', commandResultSchema],
  ['ProvisionRequest', provisionRequestSchema],
  ['ProvisionResponse', provisionResponseSchema],
  ['EventId', eventIdSchema],
  ['Timestamp', timestampSchema],
  ['CardUid', cardUidSchema],
  ['DepositItem', depositItemSchema],
  ['BatteryKind', batteryKindSchema],
  ['Display', displaySchema],
];

interface ChannelSpec {
  channel: DeviceChannel;
  title: string;
  description: string;
  qos: 0 | 1;
  retain: boolean;
  messages: MessageId[];
  reply?: DeviceChannel;
}

const CHANNELS: readonly ChannelSpec[] = [
  {
    channel: 'events',
    title: 'Events',
    description:
      'One event per message: a deposit (recycling bin), a tap (check-in terminal, counter reader) or a collection ' +
      '(staff emptied the bin, from its door sensor and scale; credits nobody). ' +
      'Write it to a durable outbox before the first publish; keep it until an ack with its eventId arrives, ' +
      'whatever the result. Without an ack in 10 s publish the same bytes again, backing off to at most 5 min, ' +
      "oldest first. Never change an event's id or content.",
    qos: 1,
    retain: false,
    messages: ['DepositEvent', 'TapEvent', 'CollectionEvent'],
    reply: 'acks',
  },
  {
    channel: 'telemetry',
    title: 'Telemetry',
    description: 'Health readings, any subset of the fields: every 60 s and whenever a reading changes. QoS 0 or 1.',
    qos: 0,
    retain: false,
    messages: ['Telemetry'],
  },
  {
    channel: 'status',
    title: 'Status',
    description:
      'Retained. Publish {"state":"online"} right after connecting; register {"state":"offline"} on this topic ' +
      'as the retained QoS 1 last will.',
    qos: 1,
    retain: true,
    messages: ['Status'],
  },
  {
    channel: 'acks',
    title: 'Acks',
    description:
      'The outcome of one event, sent once it is durably committed. A resent event gets the very same ack again. ' +
      'Show the display lines as they are.',
    qos: 1,
    retain: false,
    messages: ['Ack'],
  },
  {
    channel: 'commands',
    title: 'Commands',
    description: 'A command to run; ignore it after expiresAt. Answer on command-results with the same commandId.',
    qos: 1,
    retain: false,
    messages: ['Command'],
    reply: 'command-results',
  },
  {
    channel: 'command-results',
    title: 'Command results',
    description: 'The result of one command.',
    qos: 1,
    retain: false,
    messages: ['CommandResult'],
  },
];

const MESSAGE_TITLES: Record<MessageId, string> = {
  DepositEvent: 'Deposit event',
  TapEvent: 'Tap event',
  CollectionEvent: 'Collection event',
  Telemetry: 'Telemetry',
  Status: 'Connection status',
  Ack: 'Event ack',
  Command: 'Command',
  CommandResult: 'Command result',
  ProvisionRequest: 'Provisioning request',
  ProvisionResponse: 'Provisioning response',
};

/** Self-provisioning (issue #6): outside the device root, for a device that has no id yet. */
const PROVISION_CHANNELS = [
  {
    id: 'provision-request',
    address: `${PROVISION_ROOT}/{clientId}/request`,
    title: 'Provisioning request',
    description:
      `A factory-fresh device connects with username \`${PROVISIONING_USERNAME}\` (any password), a client id of its ` +
      'choice and a clean session, subscribes to its response topic, then publishes the community provisioning key, ' +
      'its secret, its kind and the id it proposes. This login may do nothing else.',
    action: 'send',
    message: 'ProvisionRequest',
    reply: 'provision-response',
  },
  {
    id: 'provision-response',
    address: `${PROVISION_ROOT}/{clientId}/response`,
    title: 'Provisioning response',
    description:
      'Its own credentials, sent this once (store them, disconnect, reconnect as the device), or the reason it was ' +
      'refused: unknown-key, wrong-secret, key-revoked, key-expired, key-used-up, kind-not-allowed, device-id-taken, invalid-request.',
    action: 'receive',
    message: 'ProvisionResponse',
  },
] as const satisfies readonly {
  id: string;
  address: string;
  title: string;
  description: string;
  action: 'send' | 'receive';
  message: MessageId;
  reply?: string;
}[];

const CORRELATION: Partial<Record<MessageId, 'eventId' | 'commandId'>> = {
  DepositEvent: 'eventId',
  TapEvent: 'eventId',
  CollectionEvent: 'eventId',
  Ack: 'eventId',
  Command: 'commandId',
  CommandResult: 'commandId',
};

/** Which message a valid fixture illustrates; events split by their type. */
function fixtureMessage(schema: string, payload: unknown): MessageId | undefined {
  const byKind: Record<string, MessageId> = {
    telemetry: 'Telemetry',
    status: 'Status',
    ack: 'Ack',
    command: 'Command',
    'command-result': 'CommandResult',
    'provision-request': 'ProvisionRequest',
    'provision-response': 'ProvisionResponse',
  };
  if (schema !== 'event') return byKind[schema];
  const type = (payload as { type?: unknown }).type;
  const byType: Record<string, MessageId> = { deposit: 'DepositEvent', tap: 'TapEvent', collection: 'CollectionEvent' };
  return typeof type === 'string' ? byType[type] : undefined;
}

/** Rules the zod schemas enforce with refinements, which have no automatic JSON Schema form. */
function addRefinements(ctx: { zodSchema: unknown; jsonSchema: JsonObject }): void {
  if (ctx.zodSchema === timestampSchema) ctx.jsonSchema['format'] = 'date-time';
  if (ctx.zodSchema === ackSchema) {
    const resultIs = (result: string) => ({ properties: { result: { const: result } }, required: ['result'] });
    ctx.jsonSchema['allOf'] = [
      { if: resultIs('credited'), then: { not: { required: ['reason'] } }, else: { required: ['reason'] } },
      { if: resultIs('rejected'), then: { properties: { points: { const: 0 } } } },
    ];
  }
}

function componentSchemas(): Record<string, JsonObject> {
  const registry = z.registry<{ id: string }>();
  for (const [id, schema] of COMPONENT_SCHEMAS) registry.add(schema, { id });
  // AsyncAPI's default schema format is a superset of JSON Schema draft-07.
  const { schemas } = z.toJSONSchema(registry, {
    io: 'input',
    target: 'draft-07',
    uri: (id) => `#/components/schemas/${id}`,
    override: (ctx) => addRefinements(ctx as { zodSchema: unknown; jsonSchema: JsonObject }),
  });
  const out: Record<string, JsonObject> = {};
  for (const [id] of COMPONENT_SCHEMAS) {
    const { $schema: _dialect, $id: _id, ...schema } = schemas[id] as JsonObject;
    out[id] = schema;
  }
  return out;
}

function messages(): Record<MessageId, JsonObject> {
  const out = {} as Record<MessageId, JsonObject>;
  for (const id of Object.keys(MESSAGE_TITLES) as MessageId[]) {
    const examples = validFixtures
      .filter((f) => f.example && fixtureMessage(f.schema, f.payload) === id)
      .map((f) => ({ name: f.name, payload: f.payload }));
    const correlation = CORRELATION[id];
    out[id] = {
      name: id,
      title: MESSAGE_TITLES[id],
      contentType: 'application/json',
      ...(correlation ? { correlationId: { $ref: `#/components/correlationIds/${correlation}` } } : {}),
      payload: { $ref: `#/components/schemas/${id}` },
      examples,
    };
  }
  return out;
}

const operationId = (spec: ChannelSpec, action: 'send' | 'receive'): string =>
  action + spec.channel.replace(/(^|-)(\w)/g, (_, __, c: string) => c.toUpperCase());

/** The AsyncAPI 3.0.0 description of device protocol v1, from the device's point of view. */
export function buildAsyncApiDocument(): JsonObject {
  const channels: JsonObject = {};
  const operations: JsonObject = {};
  for (const spec of CHANNELS) {
    const action = DEVICE_PUBLISH_CHANNELS.includes(spec.channel) ? 'send' : 'receive';
    channels[spec.channel] = {
      address: `${TOPIC_ROOT}/{deviceId}/${spec.channel}`,
      title: spec.title,
      description: spec.description,
      parameters: { deviceId: { $ref: '#/components/parameters/deviceId' } },
      messages: Object.fromEntries(spec.messages.map((m) => [m, { $ref: `#/components/messages/${m}` }])),
    };
    operations[operationId(spec, action)] = {
      action,
      channel: { $ref: `#/channels/${spec.channel}` },
      summary: `${action === 'send' ? 'The device publishes' : 'The device receives'} ${spec.title.toLowerCase()}.`,
      messages: spec.messages.map((m) => ({ $ref: `#/channels/${spec.channel}/messages/${m}` })),
      ...(spec.reply ? { reply: { channel: { $ref: `#/channels/${spec.reply}` } } } : {}),
      bindings: { mqtt: { qos: spec.qos, retain: spec.retain, bindingVersion: '0.2.0' } },
    };
  }
  for (const spec of PROVISION_CHANNELS) {
    channels[spec.id] = {
      address: spec.address,
      title: spec.title,
      description: spec.description,
      parameters: { clientId: { $ref: '#/components/parameters/clientId' } },
      messages: { [spec.message]: { $ref: `#/components/messages/${spec.message}` } },
    };
    operations[`${spec.action}${spec.message}`] = {
      action: spec.action,
      channel: { $ref: `#/channels/${spec.id}` },
      summary: `${spec.action === 'send' ? 'The device publishes' : 'The device receives'} its ${spec.title.toLowerCase()}.`,
      messages: [{ $ref: `#/channels/${spec.id}/messages/${spec.message}` }],
      ...('reply' in spec ? { reply: { channel: { $ref: `#/channels/${spec.reply}` } } } : {}),
      bindings: { mqtt: { qos: 1, retain: false, bindingVersion: '0.2.0' } },
    };
  }

  return {
    asyncapi: '3.0.0',
    info: {
      title: 'jifen device protocol',
      version: '1.0.0',
      description: [
        'MQTT contract between community credit-points devices (battery recycling bins, NFC check-in terminals,',
        'counter readers, the edge bridge) and the jifen gateway.',
        '',
        "Written from the device's point of view: `send` means the device publishes, `receive` means it subscribes.",
        '',
        `Each device uses only its own root \`${TOPIC_ROOT}/{deviceId}/\` and connects with username = deviceId,`,
        'a persistent session (clean session false) and a retained `{"state":"offline"}` last will on `status`.',
        `Payloads are UTF-8 JSON objects of at most ${MAX_PAYLOAD_BYTES} bytes; unknown fields are ignored, times`,
        'are RFC 3339 UTC with milliseconds.',
        '',
        'Device duties: keep every event in a durable outbox until its ack arrives, resend the same bytes',
        'with backoff, never change an event; send telemetry every 60 s and on change.',
        '',
        'Gateway duties: ack an event only once its outcome is committed; credit each (deviceId, eventId) at most',
        'once and answer a repeat with the identical ack; trust the topic, never a deviceId in a payload; answer',
        'an invalid event with a readable eventId by a `rejected` ack (a deposit says what is wrong: `no-items`,',
        '`unknown-battery-kind`, `invalid-count`, `invalid-weight`; otherwise `invalid-event`) and dead-letter anything',
        'else. An `occurredAt` 5 min to 24 h ahead is judged at arrival and flagged; further ahead, `clock-ahead`.',
        'Devices must accept reason codes they do not know: new ones may be added.',
      ].join('\n'),
    },
    defaultContentType: 'application/json',
    servers: {
      embedded: {
        host: 'localhost:1883',
        protocol: 'mqtt',
        description: 'The MQTT broker embedded in the gateway (development default).',
        bindings: {
          mqtt: {
            cleanSession: false,
            lastWill: {
              topic: `${TOPIC_ROOT}/{deviceId}/status`,
              qos: 1,
              message: JSON.stringify({ state: 'offline' }),
              retain: true,
            },
            bindingVersion: '0.2.0',
          },
        },
      },
    },
    channels,
    operations,
    components: {
      schemas: componentSchemas(),
      messages: messages(),
      parameters: {
        deviceId: {
          description: `The device's registered id and MQTT username; matches ${DEVICE_ID_PATTERN.source}.`,
          examples: ['bin-07'],
        },
        clientId: {
          description: `The MQTT client id of a device provisioning itself; matches ${DEVICE_ID_PATTERN.source}.`,
          examples: ['SN-2026-000417'],
        },
      },
      correlationIds: {
        eventId: { description: 'An ack answers the event with the same eventId.', location: '$message.payload#/eventId' },
        commandId: {
          description: 'A command result answers the command with the same commandId.',
          location: '$message.payload#/commandId',
        },
      },
    },
  };
}

/** docs/asyncapi.yaml, byte for byte. */
export function renderAsyncApiYaml(): string {
  // Emitting as YAML 1.1 quotes strings that 1.1 parsers (js-yaml, used by AsyncAPI tooling)
  // would otherwise read as timestamps, numbers or booleans, e.g. occurredAt in the examples.
  const doc = new YAML.Document(buildAsyncApiDocument(), { version: '1.1' });
  doc.commentBefore = [
    ' Generated from libs/protocol/src/asyncapi.ts by scripts/generate-asyncapi.ts; do not edit.',
    ` Regenerate with: ${ASYNCAPI_GENERATOR_COMMAND}`,
  ].join('\n');
  return doc.toString({ lineWidth: 0 });
}
