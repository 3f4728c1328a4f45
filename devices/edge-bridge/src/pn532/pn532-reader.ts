import { EventEmitter } from 'node:events';
import { inListPassiveTargetCommand, parseInListPassiveTargetResponse, uidHex } from '../../../../libs/protocol/src/serial/pn532-commands';
import { type SerialLink } from '../serial-link';
import { CardPresence } from './card-presence';
import { Pn532Host } from './pn532-host';

export interface Pn532ReaderOptions {
  pollIntervalMs: number;
  responseTimeoutMs: number;
  cardGoneMs: number;
  failuresBeforeReopen: number;
}

export interface CardReaderEvents {
  tap: [string];
  /** The reader is working (again), or has a fault (text for logs). */
  health: [{ isOk: boolean; detail: string }];
}

/**
 * A PN532 on a UART: on every (re)open it wakes the module and configures it, then
 * polls InListPassiveTarget for ISO 14443A cards. A card held there is one tap
 * (CardPresence). Commands failing in a row mean the module is gone silent: the
 * port is reopened (SerialLink's backoff) and the reader reported faulty.
 */
export class Pn532Reader extends EventEmitter<CardReaderEvents> {
  private readonly host: Pn532Host;
  private readonly presence: CardPresence;
  private failures = 0;
  private generation = 0;
  private isRunning = false;

  constructor(
    private readonly link: SerialLink,
    private readonly options: Pn532ReaderOptions,
  ) {
    super();
    this.host = new Pn532Host(link, options.responseTimeoutMs);
    this.presence = new CardPresence(options.cardGoneMs);
    link.on('data', (chunk) => this.host.onData(chunk));
    link.on('open', () => void this.runSession());
    link.on('fault', (reason) => {
      this.generation++;
      this.host.reset();
      this.emit('health', { isOk: false, detail: reason });
    });
  }

  get stats(): Pn532Host['stats'] {
    return this.host.stats;
  }

  start(): void {
    this.isRunning = true;
    this.link.start();
  }

  async stop(): Promise<void> {
    this.isRunning = false;
    this.generation++;
    await this.link.stop();
  }

  private async runSession(): Promise<void> {
    const session = ++this.generation;
    this.host.reset();
    try {
      await this.host.initialise();
    } catch (err) {
      this.link.reportSilence(`PN532 did not start: ${(err as Error).message}`);
      return;
    }
    this.failures = 0;
    this.emit('health', { isOk: true, detail: 'PN532 ready' });
    while (this.isRunning && session === this.generation) {
      try {
        const response = await this.host.command(inListPassiveTargetCommand());
        this.failures = 0;
        const parsed = parseInListPassiveTargetResponse(response);
        const uids = parsed.ok ? parsed.targets.map((t) => uidHex(t.uid)) : [];
        for (const uid of this.presence.sighted(uids, Date.now())) this.emit('tap', uid);
      } catch (err) {
        if (session !== this.generation) return;
        if (++this.failures >= this.options.failuresBeforeReopen) {
          this.link.reportSilence(`PN532 stopped answering: ${(err as Error).message} (${this.failures} times in a row)`);
          return;
        }
      }
      await new Promise((r) => setTimeout(r, this.options.pollIntervalMs));
    }
  }
}
