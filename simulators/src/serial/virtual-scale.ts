import { ServerSerial } from 'modbus-serial';

/**
 * A weighing scale in software: a Modbus RTU slave (modbus-serial's ServerSerial)
 * on the device end of a pty pair. The weight in grams sits in holding registers
 * 0-1 (32 bits, high word first), as the edge bridge's default config reads it.
 */
export class VirtualScale {
  grams = 0;
  private server: ServerSerial | null = null;

  constructor(
    private readonly path: string,
    private readonly unit = 1,
  ) {}

  async open(): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      const server = new ServerSerial(
        {
          getHoldingRegister: (addr: number) => {
            const value = Math.max(0, Math.round(this.grams));
            if (addr === 0) return Math.floor(value / 0x10000) & 0xffff;
            if (addr === 1) return value & 0xffff;
            return 0;
          },
        },
        { path: this.path, baudRate: 9600, unitID: this.unit, openCallback: (err) => (err ? reject(err) : resolve()) },
      );
      server.on('error', () => {});
      this.server = server;
    });
  }

  async close(): Promise<void> {
    const server = this.server;
    this.server = null;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** Batteries dropped in: the weight grows. */
  add(grams: number): void {
    this.grams += grams;
  }
}
