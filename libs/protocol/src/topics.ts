/**
 * Topic layout of device protocol v1 (shared/PROTOCOL.md "Topics").
 * Every device lives under `jifen/v1/devices/{deviceId}/` and may use nothing else.
 */
export const TOPIC_ROOT = 'jifen/v1/devices';

export const DEVICE_CHANNELS = ['events', 'telemetry', 'status', 'acks', 'commands', 'command-results'] as const;
export type DeviceChannel = (typeof DEVICE_CHANNELS)[number];

/** Channels a device publishes on; the others it only subscribes to. */
export const DEVICE_PUBLISH_CHANNELS: readonly DeviceChannel[] = ['events', 'telemetry', 'status', 'command-results'];
export const DEVICE_SUBSCRIBE_CHANNELS: readonly DeviceChannel[] = ['acks', 'commands'];

export const DEVICE_ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;

export function isValidDeviceId(deviceId: string): boolean {
  return DEVICE_ID_PATTERN.test(deviceId);
}

export function deviceTopic(deviceId: string, channel: DeviceChannel): string {
  if (!isValidDeviceId(deviceId)) {
    throw new RangeError(`deviceId must match ${DEVICE_ID_PATTERN.source}: ${JSON.stringify(deviceId)}`);
  }
  return `${TOPIC_ROOT}/${deviceId}/${channel}`;
}

/** Subscription filter for one channel of every device, e.g. all events. */
export function allDevicesFilter(channel: DeviceChannel): string {
  return `${TOPIC_ROOT}/+/${channel}`;
}

/**
 * MQTT 5 shared subscription (`$share/{group}/{filter}`), how replicas split device
 * traffic in scaled mode (shared/ARCHITECTURE.md).
 */
export function sharedFilter(group: string, filter: string): string {
  // MQTT 5 (4.8.2) forbids these in a share name; the broker would otherwise read a
  // different group and filter than the caller meant.
  if (group === '' || /[/+#]/.test(group)) {
    throw new RangeError(`share group must be non-empty and contain no '/', '+' or '#': ${JSON.stringify(group)}`);
  }
  if (filter === '') throw new RangeError('filter must not be empty');
  return `$share/${group}/${filter}`;
}

export interface ParsedDeviceTopic {
  deviceId: string;
  channel: DeviceChannel;
}

/** Parses a concrete topic; returns null for anything outside the device tree. */
export function parseDeviceTopic(topic: string): ParsedDeviceTopic | null {
  const prefix = `${TOPIC_ROOT}/`;
  if (!topic.startsWith(prefix)) return null;
  const rest = topic.slice(prefix.length).split('/');
  if (rest.length !== 2) return null;
  const [deviceId, channel] = rest as [string, string];
  if (!isValidDeviceId(deviceId)) return null;
  if (!(DEVICE_CHANNELS as readonly string[]).includes(channel)) return null;
  return { deviceId, channel: channel as DeviceChannel };
}

/**
 * Whether a device may use `topic` (a concrete topic or a subscription filter):
 * only its own root, only the channels that direction allows.
 */
export function isTopicAllowedForDevice(deviceId: string, topic: string, direction: 'publish' | 'subscribe'): boolean {
  const parsed = parseDeviceTopic(topic);
  if (!parsed || parsed.deviceId !== deviceId) return false;
  const allowed = direction === 'publish' ? DEVICE_PUBLISH_CHANNELS : DEVICE_SUBSCRIBE_CHANNELS;
  return allowed.includes(parsed.channel);
}

/**
 * Self-provisioning (issue #6, the ThingsBoard pattern). A factory-fresh device
 * connects with the well-known username `provision` (any password; the key and
 * secret travel in the request), a client id of its choice, and may then only
 * publish its request and receive its answer:
 *   jifen/v1/provision/{clientId}/request   device -> gateway, QoS 1
 *   jifen/v1/provision/{clientId}/response  gateway -> device, QoS 1
 */
export const PROVISION_ROOT = 'jifen/v1/provision';
export const PROVISIONING_USERNAME = 'provision';
export const PROVISION_CHANNELS = ['request', 'response'] as const;
export type ProvisionChannel = (typeof PROVISION_CHANNELS)[number];

export function provisionTopic(clientId: string, channel: ProvisionChannel): string {
  if (!isValidDeviceId(clientId)) {
    throw new RangeError(`a provisioning client id must match ${DEVICE_ID_PATTERN.source}: ${JSON.stringify(clientId)}`);
  }
  return `${PROVISION_ROOT}/${clientId}/${channel}`;
}

/** Every provisioning client's requests: what the gateway subscribes to. */
export const ALL_PROVISION_REQUESTS_FILTER = `${PROVISION_ROOT}/+/request`;

export function parseProvisionTopic(topic: string): { clientId: string; channel: ProvisionChannel } | null {
  const prefix = `${PROVISION_ROOT}/`;
  if (!topic.startsWith(prefix)) return null;
  const rest = topic.slice(prefix.length).split('/');
  if (rest.length !== 2) return null;
  const [clientId, channel] = rest as [string, string];
  if (!isValidDeviceId(clientId) || !(PROVISION_CHANNELS as readonly string[]).includes(channel)) return null;
  return { clientId, channel: channel as ProvisionChannel };
}

/** A provisioning login publishes only its own request and subscribes only to its own response. */
export function isTopicAllowedForProvisioning(clientId: string, topic: string, direction: 'publish' | 'subscribe'): boolean {
  const parsed = parseProvisionTopic(topic);
  if (!parsed || parsed.clientId !== clientId) return false;
  return parsed.channel === (direction === 'publish' ? 'request' : 'response');
}
