import { SerialPort } from 'serialport';

/** CRC-16/MODBUS (poly 0xA001 reflected, init 0xFFFF), sent low byte first. */
export function modbusCrc(bytes: Uint8Array): number {
  let crc = 0xffff;
  for (const b of bytes) {
    crc ^= b;
    for (let i = 0; i < 8; i++) crc = crc & 1 ? (crc >>> 1) ^ 0xa001 : crc >>> 1;
  }
  return crc;
}

function withCrc(body: number[]): Buffer {
  const crc = modbusCrc(Uint8Array.from(body));
  return Buffer.from([...body, crc & 0xff, crc >> 8]);
}

/**
 * A weighing scale in software: a Modbus RTU slave on the device end of a pty
 * pair. The weight in grams sits in holding registers 0-1 (32 bits, high word
 * first), as the edge bridge's default config reads it. It answers Read Holding
 * Registers (0x03) for its unit, and, as the standard demands (Modbus over serial
 * line V1.02 §2.4.1), stays silent on a frame with a bad CRC. (modbus-serial's
 * ServerSerial answers even those, so it cannot stand in for a real scale.)
 */
export class VirtualScale {
  grams = 0;
  /** Requests dropped for a bad CRC (for tests). */
  badFrames = 0;
  isSilent = false;
  private port: SerialPort | null = null;
  private buffer = Buffer.alloc(0);
  private flushTimer: NodeJS.Timeout | null = null;

  constructor(
    private readonly path: string,
    private readonly unit = 1,
  ) {}

  async open(): Promise<void> {
    const port = new SerialPort({ path: this.path, baudRate: 9600, autoOpen: false });
    await new Promise<void>((resolve, reject) => port.open((err) => (err ? reject(err) : resolve())));
    port.on('data', (chunk: Buffer) => this.onData(chunk));
    port.on('error', () => {});
    this.port = port;
  }

  async close(): Promise<void> {
    if (this.flushTimer) clearTimeout(this.flushTimer);
    const port = this.port;
    this.port = null;
    if (port?.isOpen) await new Promise<void>((resolve) => port.close(() => resolve()));
  }

  /** Batteries dropped in: the weight grows. */
  add(grams: number): void {
    this.grams += grams;
  }

  private onData(chunk: Buffer): void {
    this.buffer = Buffer.concat([this.buffer, chunk]);
    // RTU frames end with silence (3.5 characters); on a pty, a short pause stands in for it.
    if (this.flushTimer) clearTimeout(this.flushTimer);
    this.flushTimer = setTimeout(() => this.onFrame(), 5);
  }

  private onFrame(): void {
    const frame = this.buffer;
    this.buffer = Buffer.alloc(0);
    if (frame.length < 4 || this.isSilent) return;
    const crc = frame.readUInt16LE(frame.length - 2);
    if (crc !== modbusCrc(frame.subarray(0, frame.length - 2))) {
      this.badFrames++;
      return;
    }
    const [unit, fn] = [frame[0]!, frame[1]!];
    if (unit !== this.unit) return;
    if (fn !== 0x03 || frame.length !== 8) {
      this.port?.write(withCrc([unit, fn | 0x80, 0x01])); // exception 01: illegal function
      return;
    }
    const address = frame.readUInt16BE(2);
    const count = frame.readUInt16BE(4);
    if (count < 1 || count > 125 || address + count > 2) {
      this.port?.write(withCrc([unit, fn | 0x80, 0x02])); // exception 02: illegal data address
      return;
    }
    const value = Math.max(0, Math.round(this.grams)) >>> 0;
    const registers = [(value >>> 16) & 0xffff, value & 0xffff].slice(address, address + count);
    this.port?.write(withCrc([unit, fn, count * 2, ...registers.flatMap((r) => [r >> 8, r & 0xff])]));
  }
}
