import { SerialPort } from 'serialport';
import { PN532_COMMAND, type TypeATarget, inListPassiveTargetResponse } from '../../../libs/protocol/src/serial/pn532-commands';
import {
  ACK_FRAME,
  ERROR_FRAME,
  Pn532FrameDecoder,
  TFI_HOST_TO_PN532,
  TFI_PN532_TO_HOST,
  encodeFrame,
} from '../../../libs/protocol/src/serial/pn532-frame';

/**
 * A PN532 module in software, on the device end of a pty pair: it answers the
 * commands the edge bridge sends (SAMConfiguration, RFConfiguration,
 * GetFirmwareVersion, InListPassiveTarget, InRelease) with ACK and response
 * frames, repeats its last answer on a NACK, and reports the card placed on it.
 * Faults on demand: a corrupted answer, line noise, or silence.
 */
export class VirtualPn532 {
  private port: SerialPort | null = null;
  private readonly decoder = new Pn532FrameDecoder();
  private card: TypeATarget | null = null;
  private lastResponse: Buffer | null = null;
  /** Commands answered, by code (for tests). */
  readonly commandsSeen = new Map<number, number>();
  /** NACKs from the host: answers it asked for again. */
  nacksSeen = 0;
  isSilent = false;
  private corruptNext = 0;
  private noiseNext = false;

  constructor(private readonly path: string) {}

  async open(): Promise<void> {
    const port = new SerialPort({ path: this.path, baudRate: 115_200, autoOpen: false });
    await new Promise<void>((resolve, reject) => port.open((err) => (err ? reject(err) : resolve())));
    port.on('data', (chunk: Buffer) => this.onData(chunk));
    port.on('error', () => {});
    this.port = port;
  }

  async close(): Promise<void> {
    const port = this.port;
    this.port = null;
    if (port?.isOpen) await new Promise<void>((resolve) => port.close(() => resolve()));
  }

  /** A card on the reader: 4, 7 or 10 bytes of UID in hex. */
  placeCard(uidHex: string): void {
    const uid = Buffer.from(uidHex, 'hex');
    this.card = { tg: 1, sensRes: uid.length === 4 ? 0x0004 : 0x0044, selRes: uid.length === 4 ? 0x08 : 0x00, uid };
  }

  removeCard(): void {
    this.card = null;
  }

  /** Hold a card on the reader for `holdMs`, as a resident does. */
  async tap(uidHex: string, holdMs = 600): Promise<void> {
    this.placeCard(uidHex);
    await new Promise((r) => setTimeout(r, holdMs));
    this.removeCard();
  }

  /** The next `n` answers go out with a broken data checksum. */
  corruptAnswers(n: number): void {
    this.corruptNext = n;
  }

  /** Some junk bytes before the next answer. */
  addNoise(): void {
    this.noiseNext = true;
  }

  private onData(chunk: Buffer): void {
    for (const item of this.decoder.push(chunk)) {
      if (this.isSilent) continue;
      if (item.kind === 'nack') {
        this.nacksSeen++;
        if (this.lastResponse) this.write(this.lastResponse);
      }
      if (item.kind !== 'frame' || item.tfi !== TFI_HOST_TO_PN532 || item.data.length === 0) continue;
      const code = item.data[0]!;
      this.commandsSeen.set(code, (this.commandsSeen.get(code) ?? 0) + 1);
      this.write(ACK_FRAME);
      const answer = this.answer(code);
      if (!answer) {
        this.write(ERROR_FRAME);
        continue;
      }
      const frame = encodeFrame(TFI_PN532_TO_HOST, answer);
      this.lastResponse = frame;
      let out = frame;
      if (this.corruptNext > 0) {
        this.corruptNext--;
        out = Buffer.from(frame);
        out.writeUInt8(out.readUInt8(out.length - 2) ^ 0x5a, out.length - 2);
      }
      if (this.noiseNext) {
        this.noiseNext = false;
        out = Buffer.concat([Buffer.from([0x13, 0x37, 0xff, 0x42]), out]);
      }
      this.write(out);
    }
  }

  private answer(code: number): Buffer | null {
    switch (code) {
      case PN532_COMMAND.getFirmwareVersion:
        return Buffer.from([code + 1, 0x32, 0x01, 0x06, 0x07]);
      case PN532_COMMAND.samConfiguration:
      case PN532_COMMAND.rfConfiguration:
        return Buffer.from([code + 1]);
      case PN532_COMMAND.inListPassiveTarget:
        return inListPassiveTargetResponse(this.card ? [this.card] : []);
      case PN532_COMMAND.inRelease:
        return Buffer.from([code + 1, 0x00]);
      default:
        return null;
    }
  }

  private write(bytes: Buffer): void {
    this.port?.write(bytes);
  }
}
