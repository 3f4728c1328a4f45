import { type Display } from '../../../libs/protocol/src';

/**
 * Where the lines of an ack go. The console now; a panel driver (an I²C OLED, a
 * serial LCD) implements the same two methods.
 */
export interface DisplayDriver {
  show(lines: Display): void;
  close(): void;
}

export class ConsoleDisplay implements DisplayDriver {
  constructor(private readonly out: NodeJS.WritableStream = process.stdout) {}

  show(lines: Display): void {
    this.out.write(`┌ ${lines.zh}\n└ ${lines.en}\n`);
  }

  close(): void {}
}

export class NoDisplay implements DisplayDriver {
  show(): void {}
  close(): void {}
}
