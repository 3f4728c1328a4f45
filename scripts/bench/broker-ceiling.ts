import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import mqtt, { type MqttClient } from 'mqtt';
import { stopChild, trackChild } from './cleanup';
import { CpuMeter } from './process-stats';

export interface CeilingOptions {
  url: string;
  /** 4 for aedes (MQTT 3.1.1 only), 5 for an external broker. */
  protocolVersion: 4 | 5;
  messages: number;
  /** At most this many publishes unacked by the broker, or sent and not yet received. */
  window: number;
  payloadBytes: number;
  /** The broker's pid when it is ours, to report its CPU time. */
  brokerPid?: number;
  /** Give up when nothing arrives for this long (a broker may drop messages). */
  idleTimeoutMs?: number;
}

export interface CeilingResult {
  broker: string;
  messages: number;
  received: number;
  seconds: number;
  msgsPerSecond: number;
  brokerCpuSeconds: number | null;
  benchCpuSeconds: number;
}

export interface RawBroker {
  url: string;
  pid: number;
  stop(): Promise<void>;
}

/** Starts `raw-broker.js` (a bare aedes) in a child process on an ephemeral port. */
export async function startRawAedes(): Promise<RawBroker> {
  const child = trackChild(spawn(process.execPath, [join(__dirname, 'raw-broker.js')], { stdio: ['pipe', 'pipe', 'inherit'] }));
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('raw aedes broker did not start in 10 s')), 10_000);
    child.once('exit', (code) => reject(new Error(`raw aedes broker exited with code ${code}`)));
    createInterface({ input: child.stdout! }).once('line', (line) => {
      clearTimeout(timer);
      resolve((JSON.parse(line) as { port: number }).port);
    });
  });
  return { url: `mqtt://127.0.0.1:${port}`, pid: child.pid!, stop: () => stopChild(child) };
}

/** A connected bench client; with `sessionExpirySeconds` (MQTT 5) its session outlives the connection. */
export function connect(url: string, protocolVersion: 4 | 5, clientId: string, sessionExpirySeconds?: number): Promise<MqttClient> {
  const persistent = sessionExpirySeconds !== undefined;
  const client = mqtt.connect(url, {
    clientId,
    protocolVersion,
    clean: !persistent,
    ...(persistent ? { properties: { sessionExpiryInterval: sessionExpirySeconds } } : {}),
    reconnectPeriod: 0,
    connectTimeout: 5000,
  });
  return new Promise((resolve, reject) => {
    client.once('connect', () => resolve(client));
    client.once('error', reject);
  });
}

/**
 * One plain mqtt.js subscriber at QoS 1 and one publisher sending `messages`
 * QoS 1 messages of `payloadBytes`, windowed so that the run measures what the
 * broker moves, not how much it can buffer. Rate = received / (first send → last receipt).
 */
export async function measureBrokerCeiling(name: string, options: CeilingOptions): Promise<CeilingResult> {
  const tag = randomBytes(4).toString('hex');
  const topic = `bench/${tag}/ceiling`;
  const subscriber = await connect(options.url, options.protocolVersion, `bench-sub-${tag}`);
  const publisher = await connect(options.url, options.protocolVersion, `bench-pub-${tag}`);
  try {
    await subscriber.subscribeAsync(topic, { qos: 1 });
    const payload = Buffer.alloc(options.payloadBytes, 'x');
    const brokerCpu = options.brokerPid !== undefined ? new CpuMeter(options.brokerPid) : null;
    const benchCpu = new CpuMeter();
    let sent = 0;
    let unacked = 0;
    let received = 0;
    let lastReceiptAt = 0;
    const startedAt = performance.now();

    const done = new Promise<void>((resolve) => {
      let lastProgress = received;
      const watchdog = setInterval(() => {
        if (received === lastProgress) {
          clearInterval(watchdog);
          resolve(); // nothing for a while: the broker dropped the rest
        }
        lastProgress = received;
      }, options.idleTimeoutMs ?? 5000);
      const pump = () => {
        while (sent < options.messages && unacked < options.window && sent - received < options.window) {
          sent++;
          unacked++;
          publisher.publish(topic, payload, { qos: 1 }, () => {
            unacked--;
            pump();
          });
        }
      };
      subscriber.on('message', () => {
        received++;
        lastReceiptAt = performance.now();
        if (received >= options.messages) {
          clearInterval(watchdog);
          resolve();
        } else pump();
      });
      pump();
    });
    await done;
    const seconds = (lastReceiptAt - startedAt) / 1000;
    return {
      broker: name,
      messages: options.messages,
      received,
      seconds,
      msgsPerSecond: seconds > 0 ? received / seconds : 0,
      brokerCpuSeconds: brokerCpu ? brokerCpu.elapsedSeconds() : null,
      benchCpuSeconds: benchCpu.elapsedSeconds(),
    };
  } finally {
    await Promise.all([subscriber.endAsync(true), publisher.endAsync(true)]);
  }
}
