import fc from 'fast-check';
import {
  ACK_FRAME,
  ERROR_FRAME,
  NACK_FRAME,
  Pn532FrameDecoder,
  type Pn532Item,
  TFI_HOST_TO_PN532,
  TFI_PN532_TO_HOST,
  encodeFrame,
} from './pn532-frame';
import { inListPassiveTargetCommand, parseInListPassiveTargetResponse, samConfigurationCommand } from './pn532-commands';

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');
const frames = (items: Pn532Item[]) => items.filter((i) => i.kind === 'frame');

// Byte vectors written out by hand from UM0701-02 §6.2.1 (framing) and §7.3.5 (a MIFARE
// Classic 1K answers SENS_RES 00 04, SEL_RES 08; an NTAG213 00 44, 00), their LCS and DCS
// computed apart from this codec. The SAMConfiguration frame is the one the usual PN532
// libraries send at start-up.
const SAM_CONFIGURATION = hex('00 00 FF 05 FB D4 14 01 14 01 02 00');
const IN_LIST_PASSIVE_TARGET = hex('00 00 FF 04 FC D4 4A 01 00 E1 00');
const RESPONSE_4_BYTE_UID = hex('00 00 FF 0C F4 D5 4B 01 01 00 04 08 04 DE AD BE EF 96 00');
const RESPONSE_7_BYTE_UID = hex('00 00 FF 0F F1 D5 4B 01 01 00 44 00 07 04 A2 24 12 5F 61 80 77 00');
const RESPONSE_NO_TARGET = hex('00 00 FF 03 FD D5 4B 00 E0 00');

describe('PN532 frame encoding', () => {
  it('encodes SAMConfiguration and InListPassiveTarget as a PN532 expects them', () => {
    expect(encodeFrame(TFI_HOST_TO_PN532, samConfigurationCommand())).toEqual(SAM_CONFIGURATION);
    expect(encodeFrame(TFI_HOST_TO_PN532, inListPassiveTargetCommand())).toEqual(IN_LIST_PASSIVE_TARGET);
  });

  it('switches to the extended frame past 254 bytes', () => {
    const frame = encodeFrame(TFI_PN532_TO_HOST, Buffer.alloc(260, 0xab));
    expect(frame.subarray(0, 8)).toEqual(hex('00 00 FF FF FF 01 05 FA'));
    const items = new Pn532FrameDecoder().push(frame);
    expect(items).toEqual([{ kind: 'frame', tfi: TFI_PN532_TO_HOST, data: Buffer.alloc(260, 0xab) }]);
    expect(() => encodeFrame(TFI_PN532_TO_HOST, Buffer.alloc(265))).toThrow(/at most 264 data bytes/);
  });
});

describe('PN532 frame decoding', () => {
  it('reads an InListPassiveTarget response with a 4-byte UID', () => {
    const [item] = new Pn532FrameDecoder().push(RESPONSE_4_BYTE_UID);
    expect(item).toMatchObject({ kind: 'frame', tfi: 0xd5 });
    const parsed = parseInListPassiveTargetResponse((item as { data: Buffer }).data);
    expect(parsed).toEqual({ ok: true, targets: [{ tg: 1, sensRes: 0x0004, selRes: 0x08, uid: hex('DEADBEEF') }] });
  });

  it('reads an InListPassiveTarget response with a 7-byte UID', () => {
    const [item] = new Pn532FrameDecoder().push(RESPONSE_7_BYTE_UID);
    const parsed = parseInListPassiveTargetResponse((item as { data: Buffer }).data);
    expect(parsed).toEqual({ ok: true, targets: [{ tg: 1, sensRes: 0x0044, selRes: 0x00, uid: hex('04A224125F6180') }] });
  });

  it('reads an answer with no target, and the ACK, NACK and error frames', () => {
    const items = new Pn532FrameDecoder().push(Buffer.concat([ACK_FRAME, RESPONSE_NO_TARGET, NACK_FRAME, ERROR_FRAME]));
    expect(items.map((i) => i.kind)).toEqual(['ack', 'frame', 'nack', 'error-frame']);
    expect(parseInListPassiveTargetResponse((items[1] as { data: Buffer }).data)).toEqual({ ok: true, targets: [] });
  });

  it('drops a frame with a bad data checksum and reports it', () => {
    const bad = Buffer.from(RESPONSE_4_BYTE_UID);
    bad.writeUInt8(bad.readUInt8(bad.length - 2) ^ 0x01, bad.length - 2);
    const items = new Pn532FrameDecoder().push(bad);
    expect(frames(items)).toEqual([]);
    expect(items).toContainEqual({ kind: 'checksum-error', field: 'DCS' });
  });

  it('drops a frame with a bad length checksum and still finds the next frame', () => {
    const bad = Buffer.from(RESPONSE_7_BYTE_UID);
    bad.writeUInt8(bad.readUInt8(4) ^ 0xff, 4);
    const items = new Pn532FrameDecoder().push(Buffer.concat([bad, RESPONSE_4_BYTE_UID]));
    expect(items[0]).toEqual({ kind: 'checksum-error', field: 'LCS' });
    expect(frames(items)).toHaveLength(1);
    expect(parseInListPassiveTargetResponse((frames(items)[0] as { data: Buffer }).data)).toMatchObject({
      ok: true,
      targets: [{ uid: hex('DEADBEEF') }],
    });
  });

  it('joins a frame split over many reads, byte by byte', () => {
    const decoder = new Pn532FrameDecoder();
    const items: Pn532Item[] = [];
    for (const byte of RESPONSE_7_BYTE_UID) items.push(...decoder.push(Buffer.from([byte])));
    expect(items).toHaveLength(1);
    expect(items[0]).toMatchObject({ kind: 'frame' });
    // The postamble may be the first byte of the next start code: it waits, then the next frame reads whole.
    expect(decoder.push(ACK_FRAME)).toEqual([{ kind: 'ack' }]);
  });

  it('separates concatenated frames and skips noise between them', () => {
    const stream = Buffer.concat([hex('13 37 FF'), ACK_FRAME, hex('42 42'), RESPONSE_4_BYTE_UID, hex('FF FE'), RESPONSE_7_BYTE_UID]);
    const items = new Pn532FrameDecoder().push(stream);
    expect(items.filter((i) => i.kind !== 'garbage').map((i) => i.kind)).toEqual(['ack', 'frame', 'frame']);
    expect(items.filter((i) => i.kind === 'garbage').reduce((n, i) => n + (i as { bytes: number }).bytes, 0)).toBe(7);
  });

  it('resynchronises after a partial frame cut off by a newer one', () => {
    const partial = RESPONSE_7_BYTE_UID.subarray(0, 9);
    const items = new Pn532FrameDecoder().push(Buffer.concat([partial, RESPONSE_4_BYTE_UID]));
    const good = frames(items);
    expect(good).toHaveLength(1);
    expect(parseInListPassiveTargetResponse((good[0] as { data: Buffer }).data)).toMatchObject({
      ok: true,
      targets: [{ uid: hex('DEADBEEF') }],
    });
  });
});

describe('InListPassiveTarget responses', () => {
  it('reads a 10-byte UID and the ATS of an ISO 14443-4 card', () => {
    const data = hex('4B 01 01 03 44 20 0A 01 02 03 04 05 06 07 08 09 0A 05 75 77 81 02');
    expect(parseInListPassiveTargetResponse(data)).toEqual({
      ok: true,
      targets: [{ tg: 1, sensRes: 0x0344, selRes: 0x20, uid: hex('0102030405060708090A'), ats: hex('0575778102') }],
    });
  });

  it('refuses a UID length a card cannot have, and a cut-short answer', () => {
    expect(parseInListPassiveTargetResponse(hex('4B 01 01 00 04 08 05 01 02 03 04 05'))).toMatchObject({
      ok: false,
      message: expect.stringContaining('length 5'),
    });
    expect(parseInListPassiveTargetResponse(hex('4B 01 01 00 04 08 07 01 02'))).toMatchObject({
      ok: false,
      message: expect.stringContaining('cut short'),
    });
    expect(parseInListPassiveTargetResponse(hex('15'))).toMatchObject({ ok: false });
  });
});

describe('PN532 decoder properties', () => {
  it('never throws on random bytes in random chunks, and every frame it yields stood in the input with good checksums', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 64 }), { maxLength: 30 }), (chunks) => {
        const input = Buffer.concat(chunks);
        const decoder = new Pn532FrameDecoder();
        for (const chunk of chunks) {
          for (const item of decoder.push(chunk)) {
            if (item.kind !== 'frame') continue;
            // Start code to DCS, as a correct encoder writes it: the bytes must be in the input.
            const core = encodeFrame(item.tfi, item.data).subarray(1, -1);
            if (input.indexOf(core) < 0) return false;
          }
        }
        return decoder.pending <= 2 * (265 + 16);
      }),
      { numRuns: 1000 },
    );
  });

  it('finds frames planted in random bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 100 }), fc.uint8Array({ minLength: 1, maxLength: 40 }), (noise, data) => {
        const clean = Buffer.from(noise.map((x) => (x === 0x00 ? 0x11 : x)));
        const items = new Pn532FrameDecoder().push(Buffer.concat([clean, encodeFrame(0xd5, data)]));
        const found = frames(items) as { data: Buffer }[];
        return found.length === 1 && found[0]!.data.equals(Buffer.from(data));
      }),
      { numRuns: 500 },
    );
  });

  it('gives back every frame it was given, whatever noise surrounds them and however they are split', () => {
    const noise = fc.uint8Array({ maxLength: 8 }).map((b) => Buffer.from(b.map((x) => (x === 0x00 ? 0x11 : x))));
    fc.assert(
      fc.property(
        fc.array(fc.record({ tfi: fc.constantFrom(0xd4, 0xd5), data: fc.uint8Array({ minLength: 1, maxLength: 264 }), before: noise }), {
          minLength: 1,
          maxLength: 5,
        }),
        fc.integer({ min: 1, max: 50 }),
        (list, chunkSize) => {
          const stream = Buffer.concat(list.flatMap((f) => [f.before, encodeFrame(f.tfi, f.data)]));
          const decoder = new Pn532FrameDecoder();
          const got: Pn532Item[] = [];
          for (let i = 0; i < stream.length; i += chunkSize) got.push(...decoder.push(stream.subarray(i, i + chunkSize)));
          const decoded = frames(got) as { tfi: number; data: Buffer }[];
          return (
            decoded.length === list.length && decoded.every((d, i) => d.tfi === list[i]!.tfi && d.data.equals(Buffer.from(list[i]!.data)))
          );
        },
      ),
      { numRuns: 300 },
    );
  });
});
