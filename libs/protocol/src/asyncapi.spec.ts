import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import YAML from 'yaml';
import { ASYNCAPI_GENERATOR_COMMAND, buildAsyncApiDocument, renderAsyncApiYaml } from './asyncapi';

const YAML_PATH = join(__dirname, '../../../docs/asyncapi.yaml');

/** The topic table of shared/PROTOCOL.md, restated so the document is checked against the spec, not itself. */
const PROTOCOL_TABLE = [
  { channel: 'events', action: 'send', qos: 1, retain: false },
  { channel: 'telemetry', action: 'send', qos: 0, retain: false },
  { channel: 'status', action: 'send', qos: 1, retain: true },
  { channel: 'acks', action: 'receive', qos: 1, retain: false },
  { channel: 'commands', action: 'receive', qos: 1, retain: false },
  { channel: 'command-results', action: 'send', qos: 1, retain: false },
] as const;

// Plain JSON walking; the document is data, so loose typing keeps the assertions readable.

type Json = any;
const doc: Json = buildAsyncApiDocument();

function resolve(ref: string): Json {
  return ref
    .replace(/^#\//, '')
    .split('/')
    .reduce((node: Json, key) => node?.[key.replace(/~1/g, '/').replace(/~0/g, '~')], doc);
}

describe('docs/asyncapi.yaml', () => {
  it('is up to date with the protocol schemas', () => {
    let committed: string;
    try {
      committed = readFileSync(YAML_PATH, 'utf8');
    } catch {
      committed = '';
    }
    if (committed !== renderAsyncApiYaml()) {
      throw new Error(`docs/asyncapi.yaml is out of date with libs/protocol; regenerate it with: ${ASYNCAPI_GENERATOR_COMMAND}`);
    }
  });

  it('says it is generated and how to regenerate it', () => {
    const header = renderAsyncApiYaml().split('\n').slice(0, 2).join('\n');
    expect(header).toMatch(/^# Generated .*do not edit/);
    expect(header).toContain(ASYNCAPI_GENERATOR_COMMAND);
  });

  it('parses back to the built document', () => {
    expect(YAML.parse(renderAsyncApiYaml())).toEqual(JSON.parse(JSON.stringify(doc)));
  });
});

describe('buildAsyncApiDocument', () => {
  it('is an AsyncAPI 3.0.0 document for the embedded broker', () => {
    expect(doc.asyncapi).toBe('3.0.0');
    expect(doc.info).toMatchObject({ title: 'jifen device protocol', version: '1.0.0' });
    expect(doc.info.description).toContain("device's point of view");
    expect(doc.servers.embedded).toMatchObject({ host: 'localhost:1883', protocol: 'mqtt' });
  });

  it('has exactly the channels of the protocol table, and the two provisioning channels', () => {
    expect(Object.keys(doc.channels).sort()).toEqual(
      [...PROTOCOL_TABLE.map((row) => row.channel), 'provision-request', 'provision-response'].sort(),
    );
  });

  it.each(PROTOCOL_TABLE)('describes $channel with its address, direction, QoS and retain flag', (row) => {
    const channel = doc.channels[row.channel];
    expect(channel.address).toBe(`jifen/v1/devices/{deviceId}/${row.channel}`);
    expect(resolve(channel.parameters.deviceId.$ref).description).toContain('[A-Za-z0-9_-]{1,64}');

    const ops = Object.values<Json>(doc.operations).filter((op) => op.channel.$ref === `#/channels/${row.channel}`);
    expect(ops).toHaveLength(1);
    expect(ops[0]).toMatchObject({ action: row.action, bindings: { mqtt: { qos: row.qos, retain: row.retain } } });
    for (const message of ops[0].messages) expect(resolve(message.$ref)).toBeDefined();
  });

  it('gives every event message a payload requiring eventId, seq, occurredAt and type', () => {
    const messages = Object.values<Json>(doc.channels.events.messages).map((m) => resolve(m.$ref));
    expect(messages.map((m) => m.name).sort()).toEqual(['CollectionEvent', 'DepositEvent', 'TapEvent']);
    for (const message of messages) {
      const payload = resolve(message.payload.$ref);
      expect(payload.required).toEqual(expect.arrayContaining(['eventId', 'seq', 'occurredAt', 'type']));
    }
  });

  it('requires a reason on every ack that is not credited', () => {
    const ack = doc.components.schemas.Ack;
    expect(ack.allOf).toContainEqual(expect.objectContaining({ then: { not: { required: ['reason'] } }, else: { required: ['reason'] } }));
  });

  it('leaves no dangling $ref', () => {
    const refs = [...JSON.stringify(doc).matchAll(/"\$ref":"([^"]+)"/g)].map((m) => m[1] as string);
    expect(refs.length).toBeGreaterThan(0);
    expect(refs.filter((ref) => resolve(ref) === undefined)).toEqual([]);
  });

  it('has no JSON Schema dialect leftovers in component schemas', () => {
    for (const schema of Object.values<Json>(doc.components.schemas)) {
      expect(schema).not.toHaveProperty('$schema');
      expect(schema).not.toHaveProperty('$id');
    }
  });
});
