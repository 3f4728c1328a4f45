import { runEmbeddedDatabaseHarness } from './embedded-harness';

/**
 * For test/embedded-arguments.e2e-spec.ts (PGlite loads its WASM through a
 * dynamic import, which jest cannot run on Node 20). The embedded hot path sends
 * each prepared statement's JSON arguments inline, as quoted literals of a simple
 * query (libs/persistence/src/database.ts). Passes texts that would end the
 * literal early, or run a second statement if the quoting were wrong, and prints
 * as JSON what came back, whether the table they aim at still has its row, and
 * what a malformed argument gets.
 */
const HOSTILE = [
  "O'Brien",
  "''",
  "x'); DROP TABLE probe; --",
  "\\'; DROP TABLE probe; --",
  'back\\slash \\\\ and a trailing one \\',
  'semi; colon; $$ dollar $$; $tag$',
  '积分 — ünïcode ✓',
  '\u0001 control \t tab \n newline',
];

runEmbeddedDatabaseHarness('args', async (db) => {
  await db.prisma.$executeRawUnsafe('CREATE TABLE probe (id integer)');
  await db.prisma.$executeRawUnsafe('INSERT INTO probe VALUES (1)');
  const echoed = await db.transaction((q) =>
    q<{ text: string }>(`SELECT x AS text FROM jsonb_array_elements_text($1::jsonb) WITH ORDINALITY AS t(x, n) ORDER BY n`, [
      JSON.stringify(HOSTILE),
    ]),
  );
  const [probe] = await db.transaction((q) => q<{ n: number }>('SELECT count(*)::integer AS n FROM probe'));
  let malformed: { message: string; code?: string } | null = null;
  try {
    await db.transaction((q) => q(`SELECT jsonb_array_length($1::jsonb) AS n`, ['[1, 2']));
  } catch (err) {
    malformed = { message: (err as Error).message, code: (err as { code?: string }).code };
  }
  // The session is still usable after the failed transaction.
  const [after] = await db.transaction((q) => q<{ n: number }>(`SELECT jsonb_array_length($1::jsonb) AS n`, ['[1, 2]']));
  return { sent: HOSTILE, echoed: echoed.map((r) => r.text), probeRows: probe?.n ?? null, malformed, after: after?.n ?? null };
});
