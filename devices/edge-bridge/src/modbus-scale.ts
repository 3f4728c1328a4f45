import ModbusRTU from 'modbus-serial';

export interface ScaleOptions {
  path: string;
  baudRate: number;
  unit: number;
  register: number;
  registerCount: 1 | 2;
  gramsPerCount: number;
  timeoutMs: number;
  reopenMinMs: number;
  reopenMaxMs: number;
}

export type ScaleReading = { ok: true; grams: number } | { ok: false; error: string };

/** The weight in a register pair: high word first (the usual order of weighing indicators), scaled to grams. */
export function registersToGrams(registers: readonly number[], gramsPerCount: number): number {
  const raw = registers.length === 2 ? registers[0]! * 0x10000 + registers[1]! : registers[0]!;
  return Math.round(raw * gramsPerCount * 10) / 10;
}

/**
 * A weighing scale on Modbus RTU (RS-485) read through modbus-serial: holding
 * registers of one unit. A timeout or a CRC error fails that reading only; a port
 * error closes the port and the next reading reopens it, not sooner than the
 * backoff allows. A failed reading is returned as a value, never thrown.
 */
export class ModbusScale {
  private client: ModbusRTU | null = null;
  private notBefore = 0;
  private backoffMs: number;
  lastError: string | null = null;

  constructor(private readonly options: ScaleOptions) {
    this.backoffMs = options.reopenMinMs;
  }

  /** One reading; a timeout or CRC error (noise on the RS-485 pair) is retried once before it counts. */
  async read(): Promise<ScaleReading> {
    const first = await this.readOnce();
    if (first.ok || !/timed out|crc/i.test(first.error)) return first;
    return this.readOnce();
  }

  private async readOnce(): Promise<ScaleReading> {
    try {
      const client = await this.connected();
      const result = await client.readHoldingRegisters(this.options.register, this.options.registerCount);
      this.lastError = null;
      this.backoffMs = this.options.reopenMinMs;
      return { ok: true, grams: registersToGrams(result.data, this.options.gramsPerCount) };
    } catch (err) {
      const error = describeModbusError(err);
      this.lastError = error;
      // A timeout or CRC error is one bad reading; anything else means the port is in trouble.
      if (!/timed out|crc/i.test(error)) await this.drop();
      return { ok: false, error };
    }
  }

  async close(): Promise<void> {
    await this.drop();
  }

  private async connected(): Promise<ModbusRTU> {
    if (this.client?.isOpen) return this.client;
    if (Date.now() < this.notBefore) throw new Error(`scale port ${this.options.path} is waiting to reopen`);
    const client = new ModbusRTU();
    try {
      await client.connectRTUBuffered(this.options.path, { baudRate: this.options.baudRate });
    } catch (err) {
      this.notBefore = Date.now() + this.backoffMs;
      this.backoffMs = Math.min(this.options.reopenMaxMs, this.backoffMs * 2);
      throw err;
    }
    client.setID(this.options.unit);
    client.setTimeout(this.options.timeoutMs);
    this.client = client;
    return client;
  }

  private async drop(): Promise<void> {
    const client = this.client;
    this.client = null;
    if (!client) return;
    await new Promise<void>((resolve) => {
      try {
        client.close(() => resolve());
      } catch {
        resolve();
      }
    });
  }
}

function describeModbusError(err: unknown): string {
  if (err instanceof Error) return err.message;
  if (typeof err === 'object' && err !== null && 'message' in err) return String(err.message);
  return String(err);
}
