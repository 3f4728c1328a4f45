import { join } from 'node:path';
import { type BatteryKind, type DeviceEvent } from '../../libs/protocol/src';
import { type AckReceived, DeviceClient, FileOutbox, MemoryOutbox, type Outbox } from '../../libs/protocol/src/device';
import { FlakyLink, type FlakyLinkSettings } from './flaky-link';
import { type DeviceKind, type SimDevice } from './population';
import { type Rng } from './rng';

export interface VirtualDeviceSettings {
  mqttUrl: string;
  mqttVersion: 4 | 5;
  outboxDir?: string;
  resend: { firstMs: number; maxMs: number };
  flaky: FlakyLinkSettings;
  /** Offset of this device's clock from true time, ms. */
  clockSkewMs: number;
  telemetryIntervalMs: number;
}

const GRAMS_PER_ITEM: Record<BatteryKind, number> = { alkaline: 23, lithium: 20, button: 2, rechargeable: 30, other: 25 };

/**
 * One simulated bin, check-in terminal or counter reader: a DeviceClient (the
 * real device duties) plus the machine's own state: a bin's fill level, a jam.
 */
export class VirtualDevice {
  readonly client: DeviceClient;
  readonly link: FlakyLink | null;
  fillPercent = 0;
  isJammed = false;
  isCollectionDue = false;
  private seq: number;
  private counter = 0;
  private readonly runTag: string;

  private constructor(
    readonly device: SimDevice,
    readonly rng: Rng,
    settings: VirtualDeviceSettings,
    outbox: Outbox,
    runTag: string,
  ) {
    this.runTag = runTag;
    // Increasing across runs without a disk: start from the clock.
    this.seq = Date.now();
    const hasFaults = settings.flaky.loss + settings.flaky.duplicate + settings.flaky.reorder + settings.flaky.delayMs > 0;
    this.link = hasFaults ? new FlakyLink(settings.flaky, rng.fork('link')) : null;
    this.client = new DeviceClient({
      url: settings.mqttUrl,
      deviceId: device.id,
      password: device.password,
      protocolVersion: settings.mqttVersion,
      outbox,
      resend: { firstMs: settings.resend.firstMs, maxMs: settings.resend.maxMs },
      telemetryIntervalMs: settings.telemetryIntervalMs,
      now: () => Date.now() + settings.clockSkewMs,
      random: () => rng.next(),
      reconnectPeriodMs: 500,
      ...(this.link ? { link: this.link } : {}),
    });
  }

  static async create(device: SimDevice, rng: Rng, settings: VirtualDeviceSettings, runTag: string): Promise<VirtualDevice> {
    const outbox = settings.outboxDir ? await FileOutbox.open({ dir: join(settings.outboxDir, device.id) }) : new MemoryOutbox(50_000);
    return new VirtualDevice(device, rng, settings, outbox, runTag);
  }

  get kind(): DeviceKind {
    return this.device.kind;
  }

  get id(): string {
    return this.device.id;
  }

  onAck(listener: (received: AckReceived) => void): void {
    this.client.on('ack', listener);
  }

  private common(): { eventId: string; seq: number; occurredAt: string } {
    const seq = this.seq++;
    return { eventId: `${this.runTag}-${this.counter++}`, seq, occurredAt: new Date(this.client.now()).toISOString() };
  }

  /** What a resident put in: one or two kinds, a few of each, and what the scale read. */
  deposit(cardUid: string): DeviceEvent {
    const kinds: BatteryKind[] = this.rng.chance(0.7)
      ? ['alkaline']
      : [this.rng.pick(['lithium', 'button', 'rechargeable', 'other'] as const), 'alkaline'];
    const items = [...new Set(kinds)].map((kind) => ({ kind, count: this.rng.int(1, 8) }));
    const grams = items.reduce((sum, i) => sum + i.count * GRAMS_PER_ITEM[i.kind], 0);
    const weightGrams = Math.max(0, Math.round(grams * (0.9 + this.rng.next() * 0.2)));
    const count = items.reduce((s, i) => s + i.count, 0);
    this.fillPercent = Math.min(100, this.fillPercent + count * 0.4);
    if (this.fillPercent >= 90) this.isCollectionDue = true;
    return { ...this.common(), type: 'deposit', cardUid, items, weightGrams };
  }

  tap(cardUid: string): DeviceEvent {
    return { ...this.common(), type: 'tap', cardUid };
  }

  /** Staff emptied the bin: the door sensor and scale report what was taken out. */
  collection(): DeviceEvent {
    const weightGrams = Math.round(this.fillPercent * 120);
    this.fillPercent = 0;
    this.isCollectionDue = false;
    return { ...this.common(), type: 'collection', weightGrams };
  }

  reportFill(): void {
    // Whole steps of 5 %: a real fill sensor reports levels, not every battery.
    this.client.updateTelemetry({ fillPercent: Math.floor(this.fillPercent / 5) * 5 });
  }

  async close(): Promise<void> {
    await this.client.stop();
    await this.client.options.outbox.close();
  }

  setJammed(isJammed: boolean): void {
    this.isJammed = isJammed;
    this.client.setFault('JAM', isJammed);
  }
}
