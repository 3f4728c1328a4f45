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
