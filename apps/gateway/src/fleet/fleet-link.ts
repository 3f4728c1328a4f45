import { parseDeviceTopic, parseProvisionTopic } from '../../../../libs/protocol/src';
import type { BrokerLink } from '../ingest/broker-link';

export interface FleetRoutes {
  /** Every device message, before the ingest sees it (command delivery on "online"); must not throw. */
  sawDeviceMessage(deviceId: string, channel: string, payload: Buffer): void;
  commandResult(deviceId: string, topic: string, payload: Buffer): Promise<void>;
  provisionRequest(clientId: string, payload: Buffer): Promise<void>;
}

/**
 * The broker link with the fleet's own traffic taken off it: provisioning
 * requests and command results go to their services, everything else on to
 * the ingest as before. Keeps the ingest path unaware of fleet operations.
 */
export function withFleetRoutes(link: BrokerLink, routes: FleetRoutes): BrokerLink {
  return {
    get isReady() {
      return link.isReady;
    },
    start: (filters, deliver) =>
      link.start(filters, async (message) => {
        const device = parseDeviceTopic(message.topic);
        if (device) {
          routes.sawDeviceMessage(device.deviceId, device.channel, message.payload);
          if (device.channel === 'command-results') return routes.commandResult(device.deviceId, message.topic, message.payload);
          return deliver(message);
        }
        const provision = parseProvisionTopic(message.topic);
        if (provision?.channel === 'request') return routes.provisionRequest(provision.clientId, message.payload);
        return deliver(message);
      }),
    publish: (topic, payload) => link.publish(topic, payload),
    stopReceiving: () => link.stopReceiving(),
    close: () => link.close(),
  };
}
