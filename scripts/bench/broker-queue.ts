import { randomBytes } from 'node:crypto';
import mqtt, { type MqttClient } from 'mqtt';
import { connect } from './broker-ceiling';
import { readMemory } from './process-stats';

/**
 * What an external broker's queue for one absent subscriber costs and how fast
 * it drains: the numbers behind `max_queued_messages` / `max_queued_bytes` in
 * deploy/mosquitto/mosquitto.conf.
 *
 *   node dist/scripts/bench/broker-queue.js --url mqtt://127.0.0.1:18838 --pid <broker pid> --messages 500000
 *
 * A subscriber with a persistent session subscribes at QoS 1 and goes away (as
 * a gateway replica does while it restarts, or as one that has stopped reading
 * does from the broker's point of view); a publisher sends `messages` QoS 1
 * messages of `bytes` each; the broker's RSS is read before and after; the
 * subscriber comes back and counts what it gets and how fast. Fewer received
 * than sent means the broker dropped the rest at one of its limits.
 */
interface QueueOptions {
  url: string;
  pid: number | null;
  messages: number;
  bytes: number;
  window: number;
}

const USAGE =
  'usage: node dist/scripts/bench/broker-queue.js --url mqtt://host:port [--pid N] [--messages 500000] [--bytes 200] [--window 1000]';

function parseArgs(argv: string[]): QueueOptions {
  const options: QueueOptions = { url: '', pid: null, messages: 500_000, bytes: 200, window: 1000 };
  for (let i = 0; i < argv.length; i += 2) {
    const [flag, value] = [argv[i], argv[i + 1]];
    if (value === undefined) throw new Error(`${flag} needs a value\n${USAGE}`);
    if (flag === '--url') options.url = value;
    else if (flag === '--pid' || flag === '--messages' || flag === '--bytes' || flag === '--window') {
      const n = Number(value);
      if (!Number.isInteger(n) || n <= 0) throw new Error(`${flag} must be a positive whole number, got ${JSON.stringify(value)}`);
      if (flag === '--pid') options.pid = n;
      else if (flag === '--messages') options.messages = n;
      else if (flag === '--bytes') options.bytes = n;
      else options.window = n;
    } else throw new Error(`unknown option ${flag}\n${USAGE}`);
  }
  if (!options.url) throw new Error(`--url is required\n${USAGE}`);
  return options;
}

const log = (line: string) => process.stderr.write(`[broker-queue] ${line}\n`);
const mib = (bytes: number) => `${(bytes / 2 ** 20).toFixed(1)} MiB`;

async function publishAll(publisher: MqttClient, topic: string, options: QueueOptions): Promise<number> {
  const payload = Buffer.alloc(options.bytes, 'x');
  const startedAt = performance.now();
  let sent = 0;
  let acked = 0;
  await new Promise<void>((resolve, reject) => {
    const pump = () => {
      while (sent < options.messages && sent - acked < options.window) {
        sent++;
        publisher.publish(topic, payload, { qos: 1 }, (err) => {
          if (err) return reject(err);
          acked++;
          if (acked % 100_000 === 0) log(`published ${acked} / ${options.messages}`);
          if (acked === options.messages) resolve();
          else pump();
        });
      }
    };
    pump();
  });
  return (performance.now() - startedAt) / 1000;
}

async function main(): Promise<void> {
  const options = parseArgs(process.argv.slice(2));
  const tag = randomBytes(4).toString('hex');
  const topic = `bench/${tag}/queue`;
  const subscriberId = `bench-queue-sub-${tag}`;

  const first = await connect(options.url, 5, subscriberId, 3600);
  await first.subscribeAsync(topic, { qos: 1 });
  await first.endAsync();
  const before = options.pid ? readMemory(options.pid).rssBytes : 0;

  const publisher = await connect(options.url, 5, `bench-queue-pub-${tag}`);
  const publishSeconds = await publishAll(publisher, topic, options);
  await publisher.endAsync();
  const after = options.pid ? readMemory(options.pid).rssBytes : 0;
  log(`published ${options.messages} in ${publishSeconds.toFixed(1)} s`);

  let received = 0;
  let lastAt = 0;
  const drainStarted = performance.now();
  const subscriber = mqtt.connect(options.url, {
    clientId: subscriberId,
    protocolVersion: 5,
    clean: false,
    properties: { sessionExpiryInterval: 0 },
    reconnectPeriod: 0,
  });
  subscriber.on('message', () => {
    received++;
    lastAt = performance.now();
  });
  await new Promise<void>((resolve) => {
    let seen = -1;
    const timer = setInterval(() => {
      if (received === seen || received >= options.messages) {
        clearInterval(timer);
        resolve();
      }
      seen = received;
    }, 2000);
  });
  await subscriber.endAsync();
  const drainSeconds = lastAt > 0 ? (lastAt - drainStarted) / 1000 : 0;

  const result = {
    url: options.url,
    messages: options.messages,
    payloadBytes: options.bytes,
    received,
    dropped: options.messages - received,
    brokerRssBefore: options.pid ? mib(before) : null,
    brokerRssQueued: options.pid ? mib(after) : null,
    brokerBytesPerQueuedMessage: options.pid && received > 0 ? Math.round((after - before) / Math.min(received, options.messages)) : null,
    drainSeconds: Number(drainSeconds.toFixed(2)),
    drainMsgsPerSecond: drainSeconds > 0 ? Math.round(received / drainSeconds) : null,
  };
  process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
