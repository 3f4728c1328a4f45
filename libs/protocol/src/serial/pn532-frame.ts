/**
 * The PN532's frame format on its host link (NXP UM0701-02 §6.2.1): the codec both
 * the edge bridge (host side) and the simulator's virtual PN532 (module side) use.
 *
 *   normal:   00 | 00 FF | LEN | LCS | TFI PD0..PDn | DCS | 00
 *   extended: 00 | 00 FF | FF FF | LENM LENL | LCS | TFI PD0..PDn | DCS | 00   (§6.2.1.3)
 *   ACK:      00 00 FF 00 FF 00      NACK: 00 00 FF FF 00 00                       (§6.2.1.4-5)
 *   error:    00 00 FF 01 FF 7F 81 00  (syntax error at the application level, §6.2.1.6)
 *
 * LEN counts TFI and the data; LEN + LCS ≡ 0 and TFI + PD0 + … + PDn + DCS ≡ 0 (mod 256).
 */
export const TFI_HOST_TO_PN532 = 0xd4;
export const TFI_PN532_TO_HOST = 0xd5;
const TFI_ERROR = 0x7f;

export const ACK_FRAME = Buffer.from([0x00, 0x00, 0xff, 0x00, 0xff, 0x00]);
export const NACK_FRAME = Buffer.from([0x00, 0x00, 0xff, 0xff, 0x00, 0x00]);
export const ERROR_FRAME = Buffer.from([0x00, 0x00, 0xff, 0x01, 0xff, 0x7f, 0x81, 0x00]);

/** Longest TFI + data an extended frame carries (§6.2.1.3: up to 264 data bytes on the PN532). */
export const MAX_FRAME_PAYLOAD = 265;

export type Pn532Item =
  | { kind: 'frame'; tfi: number; data: Buffer }
  | { kind: 'ack' }
  | { kind: 'nack' }
  | { kind: 'error-frame' }
  /** Bytes skipped while looking for a start code (line noise, a partial frame). */
  | { kind: 'garbage'; bytes: number }
  /** A frame dropped for a bad length or data checksum. */
  | { kind: 'checksum-error'; field: 'LCS' | 'DCS' };

function checksum(bytes: Iterable<number>): number {
  let sum = 0;
  for (const b of bytes) sum = (sum + b) & 0xff;
  return (0x100 - sum) & 0xff;
}

/** One information frame: the TFI and the command or response bytes. */
export function encodeFrame(tfi: number, data: Uint8Array): Buffer {
  const len = data.length + 1;
  if (len > MAX_FRAME_PAYLOAD)
    throw new RangeError(`a PN532 frame carries at most ${MAX_FRAME_PAYLOAD - 1} data bytes, got ${data.length}`);
  const body = Buffer.concat([Buffer.from([tfi]), Buffer.from(data)]);
  const dcs = checksum(body);
  if (len < 0xff) {
    return Buffer.concat([Buffer.from([0x00, 0x00, 0xff, len, checksum([len])]), body, Buffer.from([dcs, 0x00])]);
  }
  const lenM = len >> 8;
  const lenL = len & 0xff;
  return Buffer.concat([Buffer.from([0x00, 0x00, 0xff, 0xff, 0xff, lenM, lenL, checksum([lenM, lenL])]), body, Buffer.from([dcs, 0x00])]);
}

/**
 * A stream decoder: feed it whatever the serial port delivered (a frame split over
 * reads, several frames in one, noise in between) and it returns complete items.
 * It never returns a frame whose checksums do not hold: after a bad checksum it
 * skips the start code it had locked onto and searches again, so a real frame
 * hidden after a false start code is still found.
 */
export class Pn532FrameDecoder {
  private buffer: Buffer = Buffer.alloc(0);
  /** Upper bound on buffered bytes, so a port spewing junk cannot grow memory. */
  private readonly maxBuffer = 2 * (MAX_FRAME_PAYLOAD + 16);

  push(chunk: Uint8Array): Pn532Item[] {
    this.buffer = this.buffer.length ? Buffer.concat([this.buffer, chunk]) : Buffer.from(chunk);
    const items: Pn532Item[] = [];
    for (;;) {
      const item = this.next();
      if (!item) break;
      items.push(item);
    }
    if (this.buffer.length > this.maxBuffer) {
      items.push({ kind: 'garbage', bytes: this.buffer.length - this.maxBuffer });
      this.buffer = this.buffer.subarray(this.buffer.length - this.maxBuffer);
    }
    return items;
  }

  /** Bytes held waiting for the rest of a frame. */
  get pending(): number {
    return this.buffer.length;
  }

  reset(): void {
    this.buffer = Buffer.alloc(0);
  }

  private skip(n: number): void {
    this.buffer = this.buffer.subarray(n);
  }

  private next(): Pn532Item | null {
    const buf = this.buffer;
    const start = findStartCode(buf);
    if (start < 0) {
      // Keep a trailing 0x00: it may be the first half of a start code.
      const keep = buf.length > 0 && buf[buf.length - 1] === 0x00 ? 1 : 0;
      const dropped = buf.length - keep;
      // Leading 0x00 bytes are preambles and postambles, not noise.
      const noise = countNonZero(buf.subarray(0, dropped));
      this.skip(dropped);
      return noise > 0 ? { kind: 'garbage', bytes: noise } : null;
    }
    if (start > 0) {
      const noise = countNonZero(buf.subarray(0, start));
      this.skip(start);
      if (noise > 0) return { kind: 'garbage', bytes: noise };
    }
    // buffer now starts with 00 FF
    if (this.buffer.length < 4) return null;
    const b2 = this.buffer[2]!;
    const b3 = this.buffer[3]!;
    if (b2 === 0x00 && b3 === 0xff) {
      this.skip(4);
      this.skipPostamble();
      return { kind: 'ack' };
    }
    if (b2 === 0xff && b3 === 0x00) {
      this.skip(4);
      this.skipPostamble();
      return { kind: 'nack' };
    }
    let len: number;
    let header: number;
    if (b2 === 0xff && b3 === 0xff) {
      if (this.buffer.length < 7) return null;
      const lenM = this.buffer[4]!;
      const lenL = this.buffer[5]!;
      if (((lenM + lenL + this.buffer[6]!) & 0xff) !== 0) return this.badChecksum('LCS');
      len = (lenM << 8) | lenL;
      header = 7;
    } else {
      if (((b2 + b3) & 0xff) !== 0) return this.badChecksum('LCS');
      len = b2;
      header = 4;
    }
    if (len === 0 || len > MAX_FRAME_PAYLOAD) return this.badChecksum('LCS');
    if (this.buffer.length < header + len + 1) return null;
    const body = this.buffer.subarray(header, header + len);
    const dcs = this.buffer[header + len]!;
    if (checksum(body) !== dcs) return this.badChecksum('DCS');
    const tfi = body[0]!;
    const data = Buffer.from(body.subarray(1));
    this.skip(header + len + 1);
    this.skipPostamble();
    if (tfi === TFI_ERROR && data.length === 0) return { kind: 'error-frame' };
    return { kind: 'frame', tfi, data };
  }

  private skipPostamble(): void {
    if (this.buffer.length > 0 && this.buffer[0] === 0x00) this.skip(1);
  }

  private badChecksum(field: 'LCS' | 'DCS'): Pn532Item {
    // Step over this start code only; whatever follows is searched again.
    this.skip(2);
    return { kind: 'checksum-error', field };
  }
}

function findStartCode(buf: Buffer): number {
  for (let i = 0; i + 1 < buf.length; i++) if (buf[i] === 0x00 && buf[i + 1] === 0xff) return i;
  return -1;
}

function countNonZero(bytes: Uint8Array): number {
  let n = 0;
  for (const b of bytes) if (b !== 0) n++;
  return n;
}
