import { EventEmitter } from 'node:events';
import { ReadlineParser } from '@serialport/parser-readline';
import { type Ack, type DeviceEvent } from '../../../libs/protocol/src';
import { DeviceClient, FileOutbox, FileSequence } from '../../../libs/protocol/src/device';
import { type BridgeConfig } from './config';
import { type DisplayDriver } from './display';
import { type DepositItems, parseKeypadLine } from './keypad';
import { ModbusScale } from './modbus-scale';
import { type CardReaderEvents, Pn532Reader } from './pn532/pn532-reader';
import { SerialLink } from './serial-link';
import { TextLineReader } from './text-line-reader';

export interface BridgeLog {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export interface BridgeEvents {
  /** An event was stored in the outbox and published. */
  sent: [DeviceEvent];
  ack: [Ack];
  /** The broker refused the device's login: the config is wrong, retrying will not help. */
  fatal: [Error];
  fault: [{ code: string; isActive: boolean; detail: string }];
}

type CardReader = EventEmitter<CardReaderEvents> & { start(): void; stop(): Promise<void> };

/**
 * The edge bridge: serial peripherals on one side, device protocol v1 on the
 * other. A card tap becomes a tap event (terminal, counter) or, at a bin, a
 * deposit: the tap, the batteries counted (config or keypad line) and weighed
 * (scale before and after). Events go through the durable outbox; ack lines go
 * to the display; peripheral faults go to telemetry. Each peripheral fails and
 * recovers on its own.
 */
export class EdgeBridge extends EventEmitter<BridgeEvents> {
  private client!: DeviceClient;
  private outbox!: FileOutbox;
  private sequence!: FileSequence;
  private reader!: CardReader;
  private scale: ModbusScale | null = null;
  private keypadLink: SerialLink | null = null;
  private keypadEntry: { items: DepositItems; at: number } | null = null;
  private depositChain: Promise<void> = Promise.resolve();
  private scaleProbe: NodeJS.Timeout | null = null;
  private readonly activeFaults = new Set<string>();

  constructor(
    readonly config: BridgeConfig & { device: { password: string } },
    private readonly display: DisplayDriver,
    private readonly log: BridgeLog,
  ) {
    super();
  }

  get deviceClient(): DeviceClient {
    return this.client;
  }

  async start(): Promise<void> {
    const { config } = this;
    this.outbox = await FileOutbox.open({ dir: config.outbox.dir, capacity: config.outbox.capacity });
    this.sequence = FileSequence.open(config.outbox.dir);
    if (this.outbox.size > 0)
      this.log.info({ outboxDepth: this.outbox.size }, 'events from before the restart wait in the outbox; resending');
    this.client = new DeviceClient({
      url: config.mqtt.url,
      deviceId: config.device.id,
      password: config.device.password,
      protocolVersion: config.mqtt.protocolVersion,
      outbox: this.outbox,
      resend: config.resend,
      telemetryIntervalMs: config.telemetryIntervalMs,
    });
    this.client.on('ack', ({ ack, isRepeat }) => {
      if (isRepeat) return;
      this.log.info(
        {
          deviceId: config.device.id,
          eventId: ack.eventId,
          result: ack.result,
          points: ack.points,
          ...(ack.reason ? { reason: ack.reason } : {}),
        },
        'ack',
      );
      this.display.show(ack.display);
      this.emit('ack', ack);
    });
    this.client.on('display', (lines) => this.display.show(lines));
    this.client.on('error', (err) => this.log.warn({ err: err.message }, 'mqtt'));

    const watchdog = config.watchdog;
    const link = (name: string, port: { path: string; baudRate: number }) => new SerialLink({ name, ...port, ...watchdog });
    const readerLink = link('reader', config.reader);
    this.reader =
      config.reader.type === 'pn532'
        ? new Pn532Reader(readerLink, config.reader)
        : new TextLineReader(readerLink, config.reader.repeatWithinMs);
    this.reader.on('health', ({ isOk, detail }) => this.setFault('READER_ERROR', !isOk, detail));
    this.reader.on('tap', (uid) => this.onTap(uid));

    if (config.scale) {
      this.scale = new ModbusScale({ ...config.scale, reopenMinMs: watchdog.reopenMinMs, reopenMaxMs: watchdog.reopenMaxMs });
      // The scale is read at each deposit; between deposits a slow probe notices a dead one.
      this.scaleProbe = setInterval(() => void this.readScale(), Math.max(5000, watchdog.checkEveryMs * 10));
    }
    if (config.deposit.keypad) {
      const keypad = link('keypad', config.deposit.keypad);
      const parser = new ReadlineParser({ delimiter: '\n', encoding: 'latin1' });
      keypad.on('data', (chunk) => parser.write(chunk));
      parser.on('data', (line: string) => this.onKeypadLine(line));
      keypad.on('fault', (reason) => this.log.warn({ reason }, 'keypad port fault; reopening'));
      keypad.start();
      this.keypadLink = keypad;
    }

    this.reader.start();
    // Not awaited: a bin that boots while its link is down still takes deposits into the outbox.
    this.client.start().then(
      () => this.log.info({ deviceId: config.device.id }, 'connected to the broker'),
      (err: Error) => this.emit('fatal', err),
    );
    this.log.info({ deviceId: config.device.id, kind: config.device.kind, reader: config.reader.type }, 'edge bridge running');
  }

  async stop(): Promise<void> {
    if (this.scaleProbe) clearInterval(this.scaleProbe);
    await this.reader?.stop();
    await this.keypadLink?.stop();
    await this.depositChain;
    await this.scale?.close();
    await this.client?.stop();
    await this.outbox?.close();
    this.display.close();
  }

  private onKeypadLine(line: string): void {
    const parsed = parseKeypadLine(line);
    if (!parsed.ok) {
      this.log.warn({ line, error: parsed.error }, 'keypad line ignored');
      return;
    }
    this.keypadEntry = { items: parsed.items, at: Date.now() };
  }

  private onTap(uid: string): void {
    if (this.config.device.kind !== 'bin') {
      void this.emitEvent({ ...this.common(), type: 'tap', cardUid: uid });
      return;
    }
    // Deposits one after another: each waits for its batteries to be weighed.
    this.depositChain = this.depositChain.then(() => this.deposit(uid));
  }

  private async deposit(uid: string): Promise<void> {
    const common = this.common();
    const before = await this.readScale();
    // The scale's empty reading is taken: now the resident may put the batteries in.
    this.log.info({ deviceId: this.config.device.id, cardUid: uid, ...(before !== null ? { tareGrams: before } : {}) }, 'weighing');
    this.display.show({ zh: '请投入电池', en: 'Please insert the batteries' });
    if (this.config.deposit.weighingMs > 0) await new Promise((r) => setTimeout(r, this.config.deposit.weighingMs));
    const after = before === null ? null : await this.readScale();
    const entry = this.keypadEntry;
    const isKeypadFresh = entry !== null && Date.now() - entry.at <= this.config.deposit.keypadValidMs;
    const items = this.config.deposit.keypad ? (isKeypadFresh ? entry.items : null) : this.config.deposit.items;
    this.keypadEntry = null;
    if (!items) {
      this.log.warn({ cardUid: uid }, 'tap at the bin without a count from the keypad; no deposit sent');
      this.display.show({ zh: '未检测到电池，请重新投放', en: 'No batteries counted; please try again' });
      return;
    }
    const weightGrams = before !== null && after !== null ? Math.max(0, Math.round(after - before)) : undefined;
    await this.emitEvent({
      ...common,
      type: 'deposit',
      cardUid: uid,
      items,
      ...(weightGrams !== undefined ? { weightGrams: Math.min(50_000, weightGrams) } : {}),
    });
  }

  private async readScale(): Promise<number | null> {
    if (!this.scale) return null;
    const reading = await this.scale.read();
    if (reading.ok) {
      this.setFault('SCALE_ERROR', false, 'scale answering');
      return reading.grams;
    }
    this.setFault('SCALE_ERROR', true, reading.error);
    return null;
  }

  /** Faults go to telemetry (the client publishes at once on a change) and to the log. */
  private setFault(code: string, isActive: boolean, detail: string): void {
    if (this.activeFaults.has(code) === isActive) return;
    if (isActive) this.activeFaults.add(code);
    else this.activeFaults.delete(code);
    if (isActive) this.log.warn({ code, detail }, 'peripheral fault');
    else this.log.info({ code, detail }, 'peripheral recovered');
    this.client?.setFault(code, isActive);
    this.emit('fault', { code, isActive, detail });
  }

  private common(): { eventId: string; seq: number; occurredAt: string } {
    const seq = this.sequence.take();
    // The install id keeps ids unique for ever even if the outbox directory is ever wiped and seq starts again.
    return { eventId: `${this.sequence.installId}-${seq}`, seq, occurredAt: new Date().toISOString() };
  }

  private async emitEvent(event: DeviceEvent): Promise<void> {
    try {
      await this.client.send(event);
      this.log.info(
        {
          deviceId: this.config.device.id,
          eventId: event.eventId,
          type: event.type,
          ...('cardUid' in event ? { cardUid: event.cardUid } : {}),
          ...('weightGrams' in event ? { weightGrams: event.weightGrams } : {}),
        },
        'event stored and sent',
      );
      this.emit('sent', event);
    } catch (err) {
      this.log.error({ eventId: event.eventId, err: (err as Error).message }, 'event not taken');
      this.display.show({ zh: '设备暂时无法记录，请稍后再试', en: 'Cannot record now; please try again later' });
    }
  }
}
