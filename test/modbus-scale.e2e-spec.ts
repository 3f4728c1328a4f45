import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SerialPort } from 'serialport';
import { ModbusScale } from '../devices/edge-bridge/src/modbus-scale';
import { SocatPair, hasSocat } from '../simulators/src/serial/socat-pair';
import { VirtualScale } from '../simulators/src/serial/virtual-scale';

const canRun = hasSocat() || process.env['CI'] === 'true';
if (!canRun) console.log('skipped test/modbus-scale.e2e-spec.ts: install socat (apt-get install socat) for the pty pairs');
const describeSerial = canRun ? describe : describe.skip;

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');
// Read Holding Registers, unit 1, address 0, 2 registers; CRC-16/MODBUS low byte first (Modbus over serial line V1.02 §6.2.2).
const READ_2_FROM_0 = hex('01 03 00 00 00 02 C4 0B');
// The answer for 46 g: byte count 4, registers 0x0000 0x002E.
const ANSWER_46_GRAMS = hex('01 03 04 00 00 00 2E 7A 2F');

function openRaw(path: string): Promise<SerialPort> {
  const port = new SerialPort({ path, baudRate: 9600, autoOpen: false });
  return new Promise((resolve, reject) => port.open((err) => (err ? reject(err) : resolve(port))));
}

function collect(port: SerialPort, ms: number): Promise<Buffer> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    const onData = (d: Buffer) => chunks.push(d);
    port.on('data', onData);
    setTimeout(() => {
      port.off('data', onData);
      resolve(Buffer.concat(chunks));
    }, ms);
  });
}

const scaleOptions = (path: string) => ({
  path,
  baudRate: 9600,
  unit: 1,
  register: 0,
  registerCount: 2 as const,
  gramsPerCount: 1,
  timeoutMs: 400,
  reopenMinMs: 100,
  reopenMaxMs: 1000,
});

describeSerial('Modbus RTU scale over a pty pair', () => {
  jest.setTimeout(30_000);
  let dir: string;
  let pair: SocatPair;

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'jifen-modbus-'));
    pair = new SocatPair(join(dir, 'host'), join(dir, 'dev'));
    await pair.start();
  });

  afterEach(async () => {
    await pair.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('answers a known request with the known bytes, CRC included, and ignores a request with a bad CRC', async () => {
    const scale = new VirtualScale(pair.devicePath);
    await scale.open();
    scale.grams = 46;
    const host = await openRaw(pair.hostPath);
    try {
      const answer = collect(host, 500);
      host.write(READ_2_FROM_0);
      expect(await answer).toEqual(ANSWER_46_GRAMS);

      const bad = Buffer.from(READ_2_FROM_0);
      bad.writeUInt8(0x00, 7);
      const silence = collect(host, 500);
      host.write(bad);
      expect((await silence).length).toBe(0);
      expect(scale.badFrames).toBe(1);

      // A register past the weight: exception 02, illegal data address.
      const exception = collect(host, 500);
      host.write(hex('01 03 00 05 00 01 94 0B'));
      expect(await exception).toEqual(hex('01 83 02 C0 F1'));
    } finally {
      await new Promise((r) => host.close(r));
      await scale.close();
    }
  });

  it('reads the weight through modbus-serial', async () => {
    const virtual = new VirtualScale(pair.devicePath);
    await virtual.open();
    virtual.grams = 70_123;
    const scale = new ModbusScale(scaleOptions(pair.hostPath));
    try {
      expect(await scale.read()).toEqual({ ok: true, grams: 70_123 });
    } finally {
      await scale.close();
      await virtual.close();
    }
  });

  it('reports a CRC error and a timeout as failed readings, and reads again once the scale is sane', async () => {
    const slave = await openRaw(pair.devicePath);
    let mode: 'bad-crc' | 'silent' | 'good' = 'bad-crc';
    slave.on('data', () => {
      if (mode === 'bad-crc') slave.write(hex('01 03 04 00 00 00 2E 00 00'));
      if (mode === 'good') slave.write(ANSWER_46_GRAMS);
    });
    const scale = new ModbusScale(scaleOptions(pair.hostPath));
    try {
      expect(await scale.read()).toEqual({ ok: false, error: expect.stringMatching(/crc/i) });
      mode = 'silent';
      expect(await scale.read()).toEqual({ ok: false, error: expect.stringMatching(/timed out/i) });
      mode = 'good';
      expect(await scale.read()).toEqual({ ok: true, grams: 46 });
    } finally {
      await scale.close();
      await new Promise((r) => slave.close(r));
    }
  });
});
