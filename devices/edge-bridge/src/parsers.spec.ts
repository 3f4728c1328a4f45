import { parseBridgeConfig } from './config';
import { parseKeypadLine } from './keypad';
import { registersToGrams } from './modbus-scale';
import { parseUidLine } from './text-line-reader';

describe('parseUidLine (text-line readers)', () => {
  it('reads the usual ways readers print a UID', () => {
    expect(parseUidLine('04:A2:24:12:5F:61:80\r')).toBe('04A224125F6180');
    expect(parseUidLine('UID=deadbeef')).toBe('DEADBEEF');
    expect(parseUidLine('  card: 01 02 03 04 05 06 07 08 09 0A ')).toBe('0102030405060708090A');
  });

  it('refuses lengths a card cannot have and non-hex noise', () => {
    expect(parseUidLine('DEADBE')).toBeNull();
    expect(parseUidLine('DEADBEEF00')).toBeNull();
    expect(parseUidLine('hello world')).toBeNull();
  });
});

describe('parseKeypadLine (deposit counts)', () => {
  it('reads kind=count pairs and adds repeats', () => {
    expect(parseKeypadLine('alkaline=3 lithium:1,alkaline=2')).toEqual({
      ok: true,
      items: [
        { kind: 'alkaline', count: 5 },
        { kind: 'lithium', count: 1 },
      ],
    });
  });

  it('says which part is wrong', () => {
    expect(parseKeypadLine('alkaline=3 coin=2')).toEqual({ ok: false, error: expect.stringContaining('"coin" is not a battery kind') });
    expect(parseKeypadLine('alkaline')).toEqual({ ok: false, error: '"alkaline" is not kind=count' });
    expect(parseKeypadLine('button=400 button=200')).toEqual({ ok: false, error: 'button: at most 500 per deposit' });
    expect(parseKeypadLine('alkaline=0')).toEqual({ ok: false, error: 'every count is 0' });
  });
});

describe('registersToGrams', () => {
  it('joins a register pair high word first and scales it', () => {
    expect(registersToGrams([0x0001, 0x86a0], 1)).toBe(100_000);
    expect(registersToGrams([0, 460], 0.1)).toBe(46);
    expect(registersToGrams([1234], 1)).toBe(1234);
  });
});

describe('parseBridgeConfig', () => {
  const minimal = {
    device: { id: 'bin-1', password: 'secret', kind: 'bin' },
    mqtt: { url: 'mqtt://gw:1883' },
    outbox: { dir: '/var/lib/jifen' },
    reader: { type: 'pn532', path: '/dev/ttyUSB0' },
  };

  it('fills in the defaults', () => {
    const config = parseBridgeConfig(minimal);
    expect(config.reader).toMatchObject({ type: 'pn532', baudRate: 115_200, pollIntervalMs: 150 });
    expect(config.resend).toEqual({ firstMs: 10_000, maxMs: 300_000 });
    expect(config.deposit.items).toEqual([{ kind: 'alkaline', count: 1 }]);
  });

  it('names every wrong field by its path', () => {
    expect(() => parseBridgeConfig({ ...minimal, reader: { type: 'rfid', path: 'x' }, mqtt: { url: 'http://gw' } })).toThrow(
      /reader\.type: reader\.type must be pn532 or text-line|mqtt\.url: mqtt\.url must start with mqtt:\/\//,
    );
    expect(() => parseBridgeConfig({ ...minimal, scale: { path: '/dev/ttyS1', unit: 300 } })).toThrow(/scale\.unit/);
  });

  it('takes the password from JIFEN_DEVICE_PASSWORD, and says so when neither is there', () => {
    const noPassword = { ...minimal, device: { id: 'bin-1', kind: 'bin' } };
    expect(parseBridgeConfig(noPassword, { JIFEN_DEVICE_PASSWORD: 'from-env' }).device.password).toBe('from-env');
    expect(() => parseBridgeConfig(noPassword, {})).toThrow(/JIFEN_DEVICE_PASSWORD/);
  });
});
