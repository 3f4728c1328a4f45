import { EventEmitter } from 'node:events';
import { existsSync } from 'node:fs';
import { SerialPort } from 'serialport';

export interface SerialLinkOptions {
  name: string;
  path: string;
  baudRate: number;
  reopenMinMs: number;
  reopenMaxMs: number;
  checkEveryMs: number;
}

export interface SerialLinkEvents {
  open: [];
  data: [Buffer];
  /** The port failed (error, close, vanished, or a caller saw it go silent); it will be reopened. */
  fault: [string];
}

/**
 * One serial port that keeps itself open: on an error, a close, its device path
 * vanishing (an unplugged USB adapter; serialport does not always emit close) or
 * a caller's report that it went silent, it is closed and reopened with backoff.
 * Each peripheral has its own link, so one dead reader leaves the others running.
 */
export class SerialLink extends EventEmitter<SerialLinkEvents> {
  private port: SerialPort | null = null;
  private reopenTimer: NodeJS.Timeout | null = null;
  private checkTimer: NodeJS.Timeout | null = null;
  private backoffMs: number;
  private isStopped = false;
  lastFault: string | null = null;

  constructor(readonly options: SerialLinkOptions) {
    super();
    this.backoffMs = options.reopenMinMs;
  }

  get isOpen(): boolean {
    return this.port?.isOpen ?? false;
  }

  start(): void {
    this.isStopped = false;
    this.checkTimer = setInterval(() => {
      if (this.isOpen && !existsSync(this.options.path)) this.fail(`${this.options.path} is gone (unplugged?)`);
    }, this.options.checkEveryMs);
    this.open();
  }

  async stop(): Promise<void> {
    this.isStopped = true;
    if (this.reopenTimer) clearTimeout(this.reopenTimer);
    if (this.checkTimer) clearInterval(this.checkTimer);
    await this.closePort();
  }

  write(bytes: Buffer): Promise<void> {
    const port = this.port;
    if (!port?.isOpen) return Promise.reject(new Error(`${this.options.name}: ${this.options.path} is not open`));
    return new Promise((resolve, reject) => port.write(bytes, (err) => (err ? reject(err) : resolve())));
  }

  /** A caller (the PN532 driver) saw the peripheral stop answering: reopen the port. */
  reportSilence(detail: string): void {
    this.fail(detail);
  }

  private open(): void {
    if (this.isStopped) return;
    const port = new SerialPort({ path: this.options.path, baudRate: this.options.baudRate, autoOpen: false });
    this.port = port;
    port.on('data', (chunk: Buffer) => this.emit('data', chunk));
    port.on('error', (err) => this.fail(`${this.options.path}: ${err.message}`));
    port.on('close', () => {
      if (this.port === port) this.fail(`${this.options.path} closed`);
    });
    port.open((err) => {
      if (this.port !== port) return;
      if (err) {
        this.fail(`cannot open ${this.options.path}: ${err.message}`);
        return;
      }
      this.backoffMs = this.options.reopenMinMs;
      this.lastFault = null;
      this.emit('open');
    });
  }

  private fail(reason: string): void {
    if (this.isStopped || this.reopenTimer) return;
    this.lastFault = reason;
    this.emit('fault', reason);
    void this.closePort();
    const wait = this.backoffMs;
    this.backoffMs = Math.min(this.options.reopenMaxMs, this.backoffMs * 2);
    this.reopenTimer = setTimeout(() => {
      this.reopenTimer = null;
      this.open();
    }, wait);
  }

  private async closePort(): Promise<void> {
    const port = this.port;
    this.port = null;
    if (!port) return;
    port.removeAllListeners('data');
    port.removeAllListeners('close');
    // Keep an error listener: a late error from a dead port must not crash the process.
    port.removeAllListeners('error');
    port.on('error', () => {});
    if (!port.isOpen) return;
    await new Promise<void>((resolve) => port.close(() => resolve()));
  }
}
