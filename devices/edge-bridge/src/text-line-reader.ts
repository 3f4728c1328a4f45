import { EventEmitter } from 'node:events';
import { ReadlineParser } from '@serialport/parser-readline';
import { type CardReaderEvents } from './pn532/pn532-reader';
import { type SerialLink } from './serial-link';

/**
 * A cheap reader that prints each card's UID as a line of text. Readers differ:
 * some print `04:A2:24:12:5F:61:80`, some `UID=04a224125f6180`, some repeat the
 * line while the card is held. Anything that is not 4, 7 or 10 bytes of hex is
 * noise and is counted, not sent.
 */
export function parseUidLine(line: string): string | null {
  const cleaned = line
    .trim()
    .replace(/^(?:uid|card|id)\s*[:=]?\s*/i, '')
    .replace(/[\s:-]/g, '')
    .toUpperCase();
  return /^(?:[0-9A-F]{8}|[0-9A-F]{14}|[0-9A-F]{20})$/.test(cleaned) ? cleaned : null;
}

export class TextLineReader extends EventEmitter<CardReaderEvents> {
  private lastUid: string | null = null;
  private lastAt = 0;
  noiseLines = 0;

  constructor(
    private readonly link: SerialLink,
    private readonly repeatWithinMs: number,
  ) {
    super();
    const parser = new ReadlineParser({ delimiter: '\n', encoding: 'latin1' });
    link.on('data', (chunk) => parser.write(chunk));
    parser.on('data', (line: string) => this.onLine(line, Date.now()));
    link.on('open', () => this.emit('health', { isOk: true, detail: `${link.options.path} open` }));
    link.on('fault', (reason) => this.emit('health', { isOk: false, detail: reason }));
  }

  start(): void {
    this.link.start();
  }

  stop(): Promise<void> {
    return this.link.stop();
  }

  onLine(line: string, now: number): void {
    if (line.trim() === '') return;
    const uid = parseUidLine(line);
    if (!uid) {
      this.noiseLines++;
      return;
    }
    const isRepeat = uid === this.lastUid && now - this.lastAt <= this.repeatWithinMs;
    this.lastUid = uid;
    this.lastAt = now;
    if (!isRepeat) this.emit('tap', uid);
  }
}
