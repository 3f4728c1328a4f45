import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { type AdminClient } from '../admin-client';
import { checkBalances, readBalances } from '../balance-check';
import { type SimulatorOptions } from '../options';
import { provisionPopulation } from '../population';
import { Rng } from '../rng';
import { RunTally } from '../run-tally';
import { BridgeProcess } from './bridge-process';
import { SocatPair, hasSocat } from './socat-pair';
import { VirtualPn532 } from './virtual-pn532';
import { VirtualScale } from './virtual-scale';

export interface SerialRunContext {
  options: SimulatorOptions;
  api: AdminClient;
  mqttUrl: string;
  log: (line: string) => void;
}

const GRAMS_PER_BATTERY = 23;
const BATTERIES_PER_DEPOSIT = 2;

/**
 * `--serial`: the whole chain with real serial ports. A virtual PN532 and a
 * virtual Modbus scale sit behind socat pty pairs; the edge bridge (a child
 * process, as on a controller) reads them and speaks MQTT to the gateway. Each
 * resident's card is held on the reader, batteries go into the scale, the bridge
 * sends the deposit, the ack's lines show on its display. With --flaky the PN532
 * sends corrupted answers and noise now and then. The balance check is the same:
 * every resident's balance equals what the bridge's acks credited.
 */
export async function runSerialChain(ctx: SerialRunContext): Promise<number> {
  const { options, api, log } = ctx;
  if (!hasSocat()) {
    log('--serial needs socat (apt-get install socat): it makes the pseudo-terminal pairs the virtual peripherals sit behind');
    return 2;
  }
  const dir = mkdtempSync(join(tmpdir(), 'jifen-serial-'));
  const reader = new SocatPair(join(dir, 'reader-host'), join(dir, 'reader-dev'));
  const scalePair = new SocatPair(join(dir, 'scale-host'), join(dir, 'scale-dev'));
  const pn532 = new VirtualPn532(reader.devicePath);
  const scale = new VirtualScale(scalePair.devicePath);
  const wanted = { residents: Math.min(options.residents, 20), bins: 1, terminals: 0, counters: 0 };
  const { population } = await provisionPopulation(api, wanted, resolve(options.state), log);
  const residents = population.residents.slice(0, wanted.residents);
  const bin = population.devices.find((d) => d.kind === 'bin')!;
  const weighingMs = 700;
  const configPath = join(dir, 'bridge.json');
  writeFileSync(
    configPath,
    JSON.stringify(
      {
        device: { id: bin.id, password: bin.password, kind: 'bin' },
        mqtt: { url: ctx.mqttUrl, protocolVersion: options.mqttVersion },
        outbox: { dir: join(dir, 'outbox') },
        resend: { firstMs: Math.min(options.resendFirstMs, 2000), maxMs: Math.min(options.resendMaxMs, 10_000) },
        reader: { type: 'pn532', path: reader.hostPath, pollIntervalMs: 100, responseTimeoutMs: 400, cardGoneMs: 400 },
        scale: { path: scalePair.hostPath, unit: 1, register: 0, registerCount: 2, gramsPerCount: 1, timeoutMs: 600 },
        deposit: { items: [{ kind: 'alkaline', count: BATTERIES_PER_DEPOSIT }], weighingMs },
        watchdog: { reopenMinMs: 200, reopenMaxMs: 2000, checkEveryMs: 200 },
        telemetryIntervalMs: 10_000,
      },
      null,
      2,
    ),
  );
  const bridge = new BridgeProcess(configPath);
  const before = await readBalances(api, residents);
  const tally = new RunTally();
  try {
    await reader.start();
    await scalePair.start();
    await pn532.open();
    await scale.open();
    bridge.start((line) => log(`  display ${line}`));
    await bridge.waitFor((l) => l.msg === 'connected to the broker', 30_000, 'broker connection');
    await bridge.waitFor((l) => l.msg === 'peripheral recovered' || l.msg === 'edge bridge running', 10_000, 'reader start');
    log(`edge bridge ${bin.id} running on ${reader.hostPath} (PN532) and ${scalePair.hostPath} (scale)`);

    const rng = new Rng(options.seed).fork('serial');
    const started = Date.now();
    let taps = 0;
    while ((Date.now() - started) / 1000 < options.duration) {
      const resident = rng.pick(residents);
      if (options.flaky.loss > 0 && rng.chance(0.3)) pn532.corruptAnswers(1);
      if (options.flaky.loss > 0 && rng.chance(0.3)) pn532.addNoise();
      const weighings = bridge.logLines.filter((l) => l.msg === 'weighing').length;
      const holding = pn532.tap(resident.cardUid, 300 + rng.int(0, 400));
      // The batteries go in once the bin has read its empty scale (its display asks for them).
      await bridge.waitFor(
        (l) => l.msg === 'weighing' && bridge.logLines.filter((x) => x.msg === 'weighing').length > weighings,
        10_000,
        'weighing',
      );
      scale.add(BATTERIES_PER_DEPOSIT * GRAMS_PER_BATTERY);
      await holding;
      taps++;
      await new Promise((r) => setTimeout(r, weighingMs + 400));
    }
    log(`${taps} taps made; waiting for the bridge's events and acks ...`);
    const drainUntil = Date.now() + options.drain * 1000;
    while (Date.now() < drainUntil && (bridge.sentEvents().length < taps || bridge.acks().length < bridge.sentEvents().length)) {
      await new Promise((r) => setTimeout(r, 200));
    }
    const byCard = new Map(population.residents.map((r) => [r.cardUid, r.id]));
    for (const sent of bridge.sentEvents()) tally.noteSent(bin.id, sent.eventId!, byCard.get(sent.cardUid ?? '') ?? null);
    for (const ack of bridge.acks()) {
      tally.noteAck(bin.id, {
        ack: {
          eventId: ack.eventId!,
          result: ack.result as 'credited',
          points: ack.points ?? 0,
          balance: null,
          display: { zh: '', en: '' },
        },
        raw: '',
        isRepeat: false,
      });
    }
    const differences = await checkBalances(api, residents, before, tally);
    const sent = bridge.sentEvents().length;
    const lines = [
      '',
      `=== serial chain report (seed ${options.seed}) ===`,
      `taps on the virtual PN532 ${taps}; deposits the bridge sent ${sent}; acks ${tally.acked}; display lines ${bridge.displayLines.length}`,
      `acks by outcome: ${[...tally.byOutcome].map(([k, v]) => `${k} ${v}`).join(', ') || '(none)'}`,
      differences.length === 0
        ? `balances: all ${residents.length} residents match what the acks credited`
        : `balances DIFFER: ${differences.map((d) => `${d.name} expected ${d.expected}, gateway ${d.actual}`).join('; ')}`,
    ];
    const isOk = differences.length === 0 && sent === taps && tally.pending === 0;
    lines.push(isOk ? 'RESULT: OK' : 'RESULT: FAILED');
    process.stdout.write(`${lines.join('\n')}\n`);
    return isOk ? 0 : 1;
  } finally {
    await bridge.stop();
    await pn532.close();
    await scale.close();
    await reader.stop();
    await scalePair.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}
