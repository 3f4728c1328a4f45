import { type AddressInfo, type Server, createServer } from 'node:net';
import type { Duplex } from 'node:stream';
import { Aedes, type AedesPublishPacket, type AuthenticateError, type Client } from 'aedes';
import {
  MAX_PAYLOAD_BYTES,
  PROVISIONING_USERNAME,
  isTopicAllowedForDevice,
  isTopicAllowedForProvisioning,
  isValidDeviceId,
  parseDeviceTopic,
} from '../../../../libs/protocol/src';
import type { AuthFailure } from '../fleet/auth-failures';
import type { DeadLetterInput } from '../../../../libs/persistence/src';
import type { BrokerLink, InboundMessage } from '../ingest/broker-link';
import type { Logger } from '../logging/logger';
import type { DeviceCredentials } from '../registry/device-credentials';
import { type RetainedStore, withRetainedIndex } from './retained-index';
import { type ConnectRateLimiter } from './connect-rate';

/**
 * Messages above this never reach the gateway: the broker records them and drops
 * the connection (MQTT 3.1.1 has no way to refuse one publish). Between the
 * protocol's 8 KiB and this, the gateway dead-letters them with the exact size.
 */
export const BROKER_MAX_PAYLOAD_BYTES = 8 * MAX_PAYLOAD_BYTES;

export interface EmbeddedBrokerOptions {
  host: string;
  port: number;
  credentials: DeviceCredentials;
  logger: Logger;
  /** Where refused publishes are recorded; must not throw. */
  deadLetter: (letter: DeadLetterInput) => void;
  /** Sees every refused login (the auth-failure tracker); must not throw. */
  onAuthFailure?: (failure: AuthFailure) => void;
  /** Connects per remote address; past it a connect is refused before its password is checked. */
  connectRate?: ConnectRateLimiter;
}

export class PortInUseError extends Error {
  constructor(readonly port: number) {
    super(`port ${port} is in use`);
    this.name = 'PortInUseError';
  }
}

/**
 * aedes 1.2's Client has pause() and resume(); its typings omit them.
 * pause() makes it stop reading its socket; resume() reads again only when
 * its count of packets still being handled is zero, and the
 * packets that finished while it was paused were not counted down. So a
 * resumed device whose last packets finished while paused would never be read
 * again (a device waiting for acks sends nothing that would wake it): resuming
 * clears that count first, which at worst reads a socket a little early.
 */
type PausableClient = Client & { pause(): void; resume(): void; _parsingBatch?: number };

function resumeReading(client: PausableClient): void {
  client._parsingBatch = 0;
  client.resume();
}

const EMITTER_CONCURRENCY = 65_536;

/** Deliveries waiting for room in the ingest queue above which publishing devices are paused (inProcessLink). */
export const PAUSE_ABOVE_PENDING = 256;
/** ...and at or below which the paused ones are read again. */
export const RESUME_AT_PENDING = 64;

function toBuffer(payload: string | Buffer): Buffer {
  return typeof payload === 'string' ? Buffer.from(payload) : payload;
}

function authError(message: string, returnCode: 4 | 5): AuthenticateError {
  return Object.assign(new Error(message), { returnCode });
}

/**
 * The community-centre broker: aedes in process (MQTT 3.1.1), authenticating each
 * device against the registry and keeping it under its own topic root
 * (PROTOCOL.md: "A device may publish and subscribe only under its own root").
 */
export class EmbeddedBroker {
  private aedes!: Aedes;
  private server!: Server;
  private readonly clientsByDevice = new Map<string, Client>();

  constructor(private readonly options: EmbeddedBrokerOptions) {}

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  get connectedClients(): number {
    return this.aedes.connectedClients;
  }

  async start(): Promise<void> {
    const { logger } = this.options;
    this.aedes = await Aedes.createBroker({
      // Deliveries in progress at once, device events and acks together. Past
      // this aedes queues the rest without bound, new events and acks alike;
      // the in-process link bounds device events itself (PAUSE_ABOVE_PENDING)
      // and acks are bounded by the ingest batches, so this only must not bind.
      concurrency: EMITTER_CONCURRENCY,
      preConnect: (client, packet, done) => {
        const limiter = this.options.connectRate;
        const address = remoteAddressOf(client) ?? 'unknown';
        if (!limiter || limiter.allow(address)) return done(null, true);
        // A flood from one address: no argon2 time spent on it; the tracker counts it per address (and alerts).
        logger.debug({ clientId: packet.clientId, address }, 'refused connection: too many connects from this address');
        try {
          this.options.onAuthFailure?.({
            clientId: packet.clientId,
            username: packet.username ?? null,
            address,
            reason: 'connect-flood',
            at: new Date(),
            source: 'embedded-broker',
          });
        } catch (err) {
          logger.error({ err }, 'auth-failure observer failed');
        }
        // With an error aedes closes the socket at once (without one it would leave it open, unanswered).
        return done(new Error(`too many connects from ${address}`), false);
      },
      authenticate: (client, username, password, done) => {
        this.authenticate(client, username, password).then(
          () => done(null, true),
          (err: AuthenticateError) => done(err, false),
        );
      },
      authorizePublish: (client, packet, done) => {
        if (!client) return done(null); // the gateway's own, in-process publishes
        if (this.isProvisioning(client)) {
          if (isTopicAllowedForProvisioning(client.id, packet.topic, 'publish') && !packet.retain) return done(null);
          logger.warn({ clientId: client.id, topic: packet.topic }, 'refused publish of a provisioning login');
          return done(new Error('a provisioning login may only publish its own request'));
        }
        const deviceId = this.deviceIdOf(client);
        const size = packet.payload.length;
        let reason: string | null = null;
        if (!isTopicAllowedForDevice(deviceId, packet.topic, 'publish')) {
          reason = `topic-not-allowed: device ${deviceId} may not publish to ${packet.topic}`;
        } else if (size > BROKER_MAX_PAYLOAD_BYTES) {
          reason = `payload-too-large: ${size} bytes; the limit is ${MAX_PAYLOAD_BYTES}`;
        }
        if (reason === null) return done(null);
        logger.warn({ deviceId, clientId: client.id, topic: packet.topic, bytes: size }, `refused publish: ${reason}`);
        this.options.deadLetter({
          topic: packet.topic,
          deviceId,
          clientId: client.id,
          payload:
            size > BROKER_MAX_PAYLOAD_BYTES ? Buffer.from(packet.payload).subarray(0, MAX_PAYLOAD_BYTES) : Buffer.from(packet.payload),
          reason,
          receivedAt: new Date(),
        });
        done(new Error(reason));
      },
      authorizeSubscribe: (client, sub, done) => {
        if (this.isProvisioning(client)) {
          if (isTopicAllowedForProvisioning(client.id, sub.topic, 'subscribe')) return done(null, sub);
          logger.warn({ clientId: client.id, topic: sub.topic }, 'refused subscription of a provisioning login');
          return done(null, null);
        }
        const deviceId = this.deviceIdOf(client);
        if (isTopicAllowedForDevice(deviceId, sub.topic, 'subscribe')) return done(null, sub);
        logger.warn({ deviceId, clientId: client.id, topic: sub.topic }, 'refused subscription outside the device root');
        done(null, null); // negative SUBACK for this filter; the connection stays up
      },
    });
    // Retained messages looked up by topic on SUBSCRIBE instead of scanned (issue #8: 10,000 connects).
    withRetainedIndex((this.aedes as unknown as { persistence: RetainedStore }).persistence);
    this.aedes.on('clientReady', (client) => {
      if (this.isProvisioning(client)) return;
      const deviceId = this.deviceIdOf(client);
      const previous = this.clientsByDevice.get(deviceId);
      this.clientsByDevice.set(deviceId, client);
      if (previous && previous !== client) previous.close();
    });
    this.aedes.on('clientDisconnect', (client) => {
      if (this.isProvisioning(client)) return;
      if (this.clientsByDevice.get(this.deviceIdOf(client)) === client) {
        this.clientsByDevice.delete(this.deviceIdOf(client));
      }
    });
    // noDelay: acks are small packets; with Nagle's algorithm each waited ~40 ms
    // for the peer's delayed ACK (measured: p50 43 ms -> 7 ms at 500 events/s).
    this.server = createServer({ noDelay: true }, this.aedes.handle);
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', (err: NodeJS.ErrnoException) =>
        reject(err.code === 'EADDRINUSE' ? new PortInUseError(this.options.port) : err),
      );
      this.server.listen(this.options.port, this.options.host, () => resolve());
    });
  }

  /**
   * The gateway's side of this broker, in process: `aedes.subscribe` and
   * `aedes.publish` instead of an MQTT client over loopback TCP, which cost a
   * second encode, parse and socket write per event and per ack
   * (shared/ARCHITECTURE.md measured the in-process path at about twice the
   * rate).
   *
   * Back-pressure, bounded: each delivery is handed to the ingest at once and
   * aedes is released at once (its emitter runs at most 100 deliveries at a
   * time and queues the rest without limit, acks to devices included, so a
   * delivery held there until the ingest queue had room let that queue grow
   * and the acks wait behind it: 2.08 × the steady RSS under 2 × overload).
   * Instead, while more than PAUSE_ABOVE_PENDING deliveries wait for room,
   * each device that publishes is paused (aedes stops reading its socket;
   * its TCP window fills and it slows down), and every paused device is read
   * again once no more than RESUME_AT_PENDING wait. What waits is thus at most
   * one socket read per device.
   */
  inProcessLink(): BrokerLink {
    const { logger } = this.options;
    let ready = false;
    const listeners: { filter: string; listener: (packet: AedesPublishPacket, cb: () => void) => void }[] = [];
    let pending = 0;
    const paused = new Set<PausableClient>();
    const settle = () => {
      pending--;
      if (pending > RESUME_AT_PENDING || paused.size === 0) return;
      const resumed = [...paused];
      paused.clear();
      for (const client of resumed) resumeReading(client); // may deliver (and pause) again at once
    };
    const stopListening = async () => {
      ready = false;
      for (const { filter, listener } of listeners.splice(0)) {
        await new Promise<void>((resolve) => this.aedes.unsubscribe(filter, listener, resolve));
      }
    };
    return {
      get isReady() {
        return ready;
      },
      start: async (filters, deliver) => {
        for (const filter of filters) {
          const listener = (packet: AedesPublishPacket, cb: () => void) => {
            // aedes.subscribe is a plain listener: it never replays stored retained messages,
            // and a live publish keeps the retain flag its publisher set ([MQTT-3.3.1-9] clears
            // it for clients, not for in-process listeners). What arrives here is never old news.
            const message: InboundMessage = { topic: packet.topic, payload: toBuffer(packet.payload), isRetained: false };
            pending++;
            deliver(message).then(settle, (err: unknown) => {
              logger.error({ err, topic: packet.topic }, 'device message handler failed');
              settle();
            });
            if (pending > PAUSE_ABOVE_PENDING) {
              const deviceId = parseDeviceTopic(packet.topic)?.deviceId;
              const client = deviceId === undefined ? undefined : (this.clientsByDevice.get(deviceId) as PausableClient | undefined);
              if (client && !paused.has(client)) {
                client.pause();
                paused.add(client);
              }
            }
            // Released on the next microtask, not in this call: aedes hands over a message it
            // had to hold back from inside this callback, and a long run of them would recurse.
            queueMicrotask(cb);
          };
          await new Promise<void>((resolve) => this.aedes.subscribe(filter, listener, resolve));
          listeners.push({ filter, listener });
        }
        ready = true;
        logger.info({ subscriptions: filters }, 'subscribed in process');
      },
      publish: (topic, payload) =>
        new Promise((resolve, reject) =>
          this.aedes.publish({ cmd: 'publish', topic, payload: Buffer.from(payload), qos: 1, retain: false, dup: false }, (err?: Error) =>
            err ? reject(err) : resolve(),
          ),
        ),
      stopReceiving: stopListening,
      // Nothing of its own to end: the broker stops with the gateway (stop()).
      close: stopListening,
    };
  }

  isConnected(deviceId: string): boolean {
    return this.clientsByDevice.has(deviceId);
  }

  /** Drops a device's live connection, e.g. when it is disabled. */
  disconnectDevice(deviceId: string): boolean {
    const client = this.clientsByDevice.get(deviceId);
    if (!client) return false;
    client.close();
    return true;
  }

  async stop(): Promise<void> {
    if (!this.server) return;
    // No new connections from here; the callback comes once every socket is gone.
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    await this.endDeviceConnections();
    await new Promise<void>((resolve) => this.aedes.close(() => resolve()));
    await closed;
  }

  /**
   * aedes.close destroys every socket at once. One with input still unread —
   * a device's PUBACKs for the last acks of a drain — then sends a TCP reset,
   * and the device's stack discards what it had received but not yet read:
   * those acks (34 of 200 arrived in one stop). Ends each device's connection
   * instead (FIN after all is written) and waits, at most `timeoutMs`, for the
   * device to close its side.
   */
  private async endDeviceConnections(timeoutMs = 2000): Promise<void> {
    const sockets = [...this.clientsByDevice.values()].map((client) => client.conn as Duplex);
    const allClosed = Promise.all(
      sockets.map((socket) => {
        if (socket.destroyed) return Promise.resolve();
        const gone = new Promise<void>((resolve) => socket.once('close', () => resolve()));
        socket.end();
        return gone;
      }),
    );
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs)));
    await Promise.race([allClosed, late]);
    clearTimeout(timer);
  }

  private isProvisioning(client: Client): boolean {
    return (client as Client & { jifenProvisioning?: boolean }).jifenProvisioning === true;
  }

  private deviceIdOf(client: Client): string {
    return (client as Client & { jifenDeviceId?: string }).jifenDeviceId ?? '';
  }

  private async authenticate(client: Client, username: string | undefined, password: Buffer | undefined): Promise<void> {
    const { logger, credentials } = this.options;
    const refuse = (reason: string, message: string, returnCode: 4 | 5): AuthenticateError => {
      logger.warn({ clientId: client.id, username, reason }, 'refused connection');
      try {
        this.options.onAuthFailure?.({
          clientId: client.id,
          username: username ?? null,
          address: remoteAddressOf(client),
          reason,
          at: new Date(),
          source: 'embedded-broker',
        });
      } catch (err) {
        logger.error({ err }, 'auth-failure observer failed');
      }
      return authError(message, returnCode);
    };
    // Self-provisioning: the key and secret come in the request; this login may only ask (topics.ts).
    if (username === PROVISIONING_USERNAME) {
      if (!isValidDeviceId(client.id)) {
        throw refuse('bad-client-id', 'a provisioning login needs a client id of 1-64 letters, digits, - or _', 4);
      }
      Object.assign(client, { jifenProvisioning: true });
      return;
    }
    if (!username || !password || !isValidDeviceId(username)) {
      throw refuse('no-credentials', 'a device logs in with its device id and password', 4);
    }
    const result = await credentials.check(username, password.toString('utf8'));
    if (!result.ok) throw refuse(result.reason, result.reason, result.reason === 'device-inactive' ? 5 : 4);
    Object.assign(client, { jifenDeviceId: username });
  }
}

function remoteAddressOf(client: Client): string | null {
  const conn = (client as Client & { conn?: { remoteAddress?: string } }).conn;
  return conn?.remoteAddress ?? null;
}
