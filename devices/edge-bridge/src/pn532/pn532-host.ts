import {
  NACK_FRAME,
  Pn532FrameDecoder,
  type Pn532Item,
  TFI_HOST_TO_PN532,
  TFI_PN532_TO_HOST,
  encodeFrame,
} from '../../../../libs/protocol/src/serial/pn532-frame';
import { HSU_WAKEUP, maxRetriesCommand, samConfigurationCommand } from '../../../../libs/protocol/src/serial/pn532-commands';

export interface ByteLink {
  write(bytes: Buffer): Promise<void>;
}

export class Pn532Error extends Error {
  constructor(
    readonly code: 'timeout' | 'error-frame' | 'write-failed' | 'busy' | 'closed',
    message: string,
  ) {
    super(message);
    this.name = 'Pn532Error';
  }
}

interface Exchange {
  code: number;
  phase: 'ack' | 'response';
  nacksSent: number;
  timer: NodeJS.Timeout;
  resolve: (data: Buffer) => void;
  reject: (err: Pn532Error) => void;
}

/**
 * The host side of the PN532 command exchange (UM0701-02 §6.2.2): send an
 * information frame, wait for the ACK frame, then for the response whose code is
 * the command's plus one. A response with a bad checksum is asked for again with
 * a NACK (§6.2.1.5); an error frame fails the command. One command at a time.
 */
export class Pn532Host {
  private readonly decoder = new Pn532FrameDecoder();
  private current: Exchange | null = null;
  /** Line noise and dropped frames seen, for telemetry and logs. */
  readonly stats = { garbageBytes: 0, checksumErrors: 0, timeouts: 0 };

  constructor(
    private readonly link: ByteLink,
    private readonly responseTimeoutMs: number,
  ) {}

  /** Feed every chunk the serial port delivers. */
  onData(chunk: Buffer): void {
    for (const item of this.decoder.push(chunk)) this.handle(item);
  }

  /** After a reopen: forget half-read frames and any exchange in flight. */
  reset(): void {
    this.decoder.reset();
    this.finish(null, new Pn532Error('closed', 'the port was reopened'));
  }

  /** HSU wake-up, SAMConfiguration (normal mode), and a finite number of activation retries so empty polls return. */
  async initialise(): Promise<void> {
    await this.link.write(HSU_WAKEUP);
    await this.command(samConfigurationCommand());
    await this.command(maxRetriesCommand(2));
  }

  command(data: Buffer): Promise<Buffer> {
    if (this.current) return Promise.reject(new Pn532Error('busy', 'a PN532 command is already running'));
    const code = data[0]!;
    return new Promise<Buffer>((resolve, reject) => {
      this.current = { code, phase: 'ack', nacksSent: 0, timer: this.arm('ACK'), resolve, reject };
      this.link
        .write(encodeFrame(TFI_HOST_TO_PN532, data))
        .catch((err: Error) => this.finish(null, new Pn532Error('write-failed', err.message)));
    });
  }

  private arm(what: string): NodeJS.Timeout {
    return setTimeout(() => {
      this.stats.timeouts++;
      this.finish(null, new Pn532Error('timeout', `no ${what} from the PN532 within ${this.responseTimeoutMs} ms`));
    }, this.responseTimeoutMs);
  }

  private handle(item: Pn532Item): void {
    if (item.kind === 'garbage') {
      this.stats.garbageBytes += item.bytes;
      return;
    }
    const ex = this.current;
    if (item.kind === 'checksum-error') {
      this.stats.checksumErrors++;
      if (ex?.phase === 'response' && ex.nacksSent < 2) {
        ex.nacksSent++;
        void this.link.write(NACK_FRAME).catch(() => {});
      }
      return;
    }
    if (!ex) return;
    switch (item.kind) {
      case 'ack':
        if (ex.phase === 'ack') {
          clearTimeout(ex.timer);
          ex.phase = 'response';
          ex.timer = this.arm('response');
        }
        return;
      case 'nack':
        return;
      case 'error-frame':
        this.finish(null, new Pn532Error('error-frame', `the PN532 answered command 0x${ex.code.toString(16)} with an error frame`));
        return;
      case 'frame':
        // Some modules skip the ACK when the answer is immediate; take the answer either way.
        if (item.tfi === TFI_PN532_TO_HOST && item.data[0] === ex.code + 1) {
          this.finish(item.data, null);
        }
        return;
    }
  }

  private finish(data: Buffer | null, err: Pn532Error | null): void {
    const ex = this.current;
    if (!ex) return;
    this.current = null;
    clearTimeout(ex.timer);
    if (err) ex.reject(err);
    else ex.resolve(data!);
  }
}
