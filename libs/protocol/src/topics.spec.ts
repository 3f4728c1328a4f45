import {
  DEVICE_CHANNELS,
  DEVICE_PUBLISH_CHANNELS,
  DEVICE_SUBSCRIBE_CHANNELS,
  allDevicesFilter,
  deviceTopic,
  isTopicAllowedForDevice,
  isValidDeviceId,
  isTopicAllowedForProvisioning,
  parseDeviceTopic,
  parseProvisionTopic,
  provisionTopic,
  sharedFilter,
} from './topics';

describe('deviceTopic', () => {
  it('builds the topic of a channel under the device root', () => {
    expect(deviceTopic('bin-07', 'events')).toBe('jifen/v1/devices/bin-07/events');
    expect(deviceTopic('Gate_2', 'command-results')).toBe('jifen/v1/devices/Gate_2/command-results');
  });

  it.each(['', 'bin/07', 'bin+', '#', 'bin 07', 'bin.07', 'é', 'x'.repeat(65)])('refuses the device id %j', (deviceId) => {
    expect(() => deviceTopic(deviceId, 'events')).toThrow(RangeError);
  });

  it('accepts a device id of 64 characters', () => {
    expect(isValidDeviceId('x'.repeat(64))).toBe(true);
  });
});

describe('parseDeviceTopic', () => {
  it.each(DEVICE_CHANNELS)('parses the %s channel', (channel) => {
    expect(parseDeviceTopic(`jifen/v1/devices/bin-07/${channel}`)).toEqual({ deviceId: 'bin-07', channel });
  });

  it('round-trips with deviceTopic', () => {
    expect(parseDeviceTopic(deviceTopic('a_B-9', 'acks'))).toEqual({ deviceId: 'a_B-9', channel: 'acks' });
  });

  it.each([
    ['too shallow', 'jifen/v1/devices/bin-07'],
    ['too deep', 'jifen/v1/devices/bin-07/events/extra'],
    ['a trailing slash', 'jifen/v1/devices/bin-07/events/'],
    ['an empty device id', 'jifen/v1/devices//events'],
    ['a bad device id', 'jifen/v1/devices/bin.07/events'],
    ['a wildcard device id', 'jifen/v1/devices/+/events'],
    ['a multi-level wildcard', 'jifen/v1/devices/bin-07/#'],
    ['an unknown channel', 'jifen/v1/devices/bin-07/logs'],
    ['a channel in the wrong case', 'jifen/v1/devices/bin-07/Events'],
    ['another protocol version', 'jifen/v2/devices/bin-07/events'],
    ['another root', 'other/v1/devices/bin-07/events'],
    ['a leading slash', '/jifen/v1/devices/bin-07/events'],
    ['a shared subscription', '$share/g/jifen/v1/devices/bin-07/events'],
    ['the bare root', 'jifen/v1/devices'],
  ])('rejects %s', (_, topic) => {
    expect(parseDeviceTopic(topic)).toBeNull();
  });
});

describe('isTopicAllowedForDevice', () => {
  it.each(DEVICE_PUBLISH_CHANNELS)('lets a device publish on its own %s', (channel) => {
    expect(isTopicAllowedForDevice('bin-07', `jifen/v1/devices/bin-07/${channel}`, 'publish')).toBe(true);
  });

  it.each(DEVICE_SUBSCRIBE_CHANNELS)('lets a device subscribe to its own %s', (channel) => {
    expect(isTopicAllowedForDevice('bin-07', `jifen/v1/devices/bin-07/${channel}`, 'subscribe')).toBe(true);
  });

  it.each(DEVICE_SUBSCRIBE_CHANNELS)('refuses a device publishing on its own %s (gateway only)', (channel) => {
    expect(isTopicAllowedForDevice('bin-07', `jifen/v1/devices/bin-07/${channel}`, 'publish')).toBe(false);
  });

  it.each(DEVICE_PUBLISH_CHANNELS)('refuses a device subscribing to its own %s', (channel) => {
    expect(isTopicAllowedForDevice('bin-07', `jifen/v1/devices/bin-07/${channel}`, 'subscribe')).toBe(false);
  });

  it('splits the channels between the two directions without overlap', () => {
    expect([...DEVICE_PUBLISH_CHANNELS, ...DEVICE_SUBSCRIBE_CHANNELS].sort()).toEqual([...DEVICE_CHANNELS].sort());
  });

  it("refuses another device's root in either direction", () => {
    expect(isTopicAllowedForDevice('bin-07', 'jifen/v1/devices/bin-08/events', 'publish')).toBe(false);
    expect(isTopicAllowedForDevice('bin-07', 'jifen/v1/devices/bin-08/acks', 'subscribe')).toBe(false);
  });

  it('refuses a device id that only shares a prefix', () => {
    expect(isTopicAllowedForDevice('bin-0', 'jifen/v1/devices/bin-07/events', 'publish')).toBe(false);
  });

  it.each([
    'jifen/v1/devices/+/acks',
    'jifen/v1/devices/+/commands',
    'jifen/v1/devices/bin-07/+',
    'jifen/v1/devices/bin-07/#',
    'jifen/v1/devices/#',
    'jifen/#',
    '#',
    '+/+/+/+/+',
    '$share/g/jifen/v1/devices/bin-07/acks',
    '$SYS/#',
  ])('refuses the wildcard or foreign filter %s', (filter) => {
    expect(isTopicAllowedForDevice('bin-07', filter, 'subscribe')).toBe(false);
    expect(isTopicAllowedForDevice('bin-07', filter, 'publish')).toBe(false);
  });

  it('refuses everything to a client whose id is itself a wildcard', () => {
    expect(isTopicAllowedForDevice('+', 'jifen/v1/devices/+/acks', 'subscribe')).toBe(false);
  });
});

describe('allDevicesFilter and sharedFilter', () => {
  it('builds a filter for one channel of every device', () => {
    expect(allDevicesFilter('events')).toBe('jifen/v1/devices/+/events');
  });

  it('wraps a filter in an MQTT 5 shared subscription', () => {
    expect(sharedFilter('gateway', allDevicesFilter('events'))).toBe('$share/gateway/jifen/v1/devices/+/events');
  });

  it.each(['', 'a/b', 'g+', 'g#'])('refuses the share group %j', (group) => {
    expect(() => sharedFilter(group, 'jifen/v1/devices/+/events')).toThrow(RangeError);
  });

  it('refuses an empty filter', () => {
    expect(() => sharedFilter('gateway', '')).toThrow(RangeError);
  });
});

describe('provisioning topics', () => {
  it('gives a provisioning client its own request and response topics', () => {
    expect(provisionTopic('SN-0417', 'request')).toBe('jifen/v1/provision/SN-0417/request');
    expect(parseProvisionTopic('jifen/v1/provision/SN-0417/response')).toEqual({ clientId: 'SN-0417', channel: 'response' });
    expect(parseProvisionTopic('jifen/v1/provision/+/response')).toBeNull();
    expect(parseProvisionTopic('jifen/v1/devices/SN-0417/events')).toBeNull();
  });

  it('lets a provisioning login publish only its request and subscribe only to its response', () => {
    expect(isTopicAllowedForProvisioning('a1', 'jifen/v1/provision/a1/request', 'publish')).toBe(true);
    expect(isTopicAllowedForProvisioning('a1', 'jifen/v1/provision/a1/response', 'subscribe')).toBe(true);
    expect(isTopicAllowedForProvisioning('a1', 'jifen/v1/provision/a1/response', 'publish')).toBe(false);
    expect(isTopicAllowedForProvisioning('a1', 'jifen/v1/provision/b2/response', 'subscribe')).toBe(false);
    expect(isTopicAllowedForProvisioning('a1', 'jifen/v1/provision/+/response', 'subscribe')).toBe(false);
    expect(isTopicAllowedForProvisioning('a1', 'jifen/v1/provision/#', 'subscribe')).toBe(false);
    expect(isTopicAllowedForProvisioning('a1', 'jifen/v1/devices/a1/events', 'publish')).toBe(false);
  });

  it('refuses a client id that could not be a topic level', () => {
    expect(() => provisionTopic('a/b', 'request')).toThrow(RangeError);
    expect(() => provisionTopic('+', 'response')).toThrow(RangeError);
  });
});
