import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';

/**
 * The embedded hot path runs its prepared statements as simple queries with the
 * JSON arguments quoted inline (PGlite's extended protocol costs six calls into
 * the WASM backend a statement). The quoting is then all that keeps an argument
 * an argument: these are the texts that would break out of it.
 */
const HARNESS = join(__dirname, '..', 'dist', 'test', 'support', 'embedded-arguments.harness.js');

describe('embedded hot-path arguments', () => {
  let result: {
    sent: string[];
    echoed: string[];
    probeRows: number | null;
    malformed: { message: string; code?: string } | null;
    after: number | null;
  };

  beforeAll(async () => {
    const { stdout } = await promisify(execFile)(process.execPath, [HARNESS], { maxBuffer: 1 << 20 });
    result = JSON.parse(stdout) as typeof result;
  }, 60_000);

  it('come back exactly as sent, quotes, backslashes, semicolons and dollar quotes included', () => {
    expect(result.echoed).toEqual(result.sent);
    expect(result.sent.length).toBeGreaterThan(5);
  });

  it('never run as SQL: the table a smuggled DROP aims at still has its row', () => {
    expect(result.probeRows).toBe(1);
  });

  it('a malformed JSON argument fails its transaction with PostgreSQL’s own error, and the session goes on', () => {
    expect(result.malformed).toEqual({ message: expect.stringMatching(/invalid input syntax for type json/), code: '22P02' });
    expect(result.after).toBe(2);
  });
});
