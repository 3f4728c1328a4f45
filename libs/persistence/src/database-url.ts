import { Pool } from 'pg';

// Kept apart from database.ts so that tests and scripts can use these without
// loading the generated Prisma client.

/** Splits `?schema=` off a PostgreSQL URL; pg itself does not understand it. */
export function parseDatabaseUrl(url: string): { connectionString: string; schema: string | undefined } {
  const parsed = new URL(url);
  const schema = parsed.searchParams.get('schema') ?? undefined;
  parsed.searchParams.delete('schema');
  if (schema !== undefined && !/^[a-z_][a-z0-9_]{0,62}$/.test(schema)) {
    throw new Error(`DATABASE_URL schema must be a lower-case SQL identifier, got ${JSON.stringify(schema)}`);
  }
  return { connectionString: parsed.toString(), schema };
}

/** Drops the schema a `?schema=` URL points at (test and benchmark runs clean up with it). */
export async function dropSchema(databaseUrl: string): Promise<void> {
  const { connectionString, schema } = parseDatabaseUrl(databaseUrl);
  if (!schema) throw new Error('dropSchema needs a DATABASE_URL with ?schema=');
  const pool = new Pool({ connectionString, max: 1 });
  try {
    await pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  } finally {
    await pool.end();
  }
}
