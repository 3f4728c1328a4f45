// parseDatabaseUrl is pure; the drivers database.ts also imports are replaced so this spec
// needs neither the generated Prisma client (built by `npm run build`) nor a database.
jest.mock('./generated/prisma/client', () => ({ PrismaClient: class {} }), { virtual: true });
jest.mock('@electric-sql/pglite', () => ({ PGlite: class {} }));
jest.mock('@prisma/adapter-pg', () => ({ PrismaPg: class {} }));
jest.mock('pglite-prisma-adapter', () => ({ PrismaPGlite: class {} }));
jest.mock('pg', () => ({ Pool: class {} }));

import { parseDatabaseUrl } from './database';

describe('parseDatabaseUrl', () => {
  it('splits ?schema= off the URL, since pg does not understand it', () => {
    expect(parseDatabaseUrl('postgresql://jifen:secret@127.0.0.1:5432/jifen?schema=run_1')).toEqual({
      connectionString: 'postgresql://jifen:secret@127.0.0.1:5432/jifen',
      schema: 'run_1',
    });
  });

  it('keeps the other query parameters', () => {
    const { connectionString, schema } = parseDatabaseUrl(
      'postgres://db.example/jifen?sslmode=require&schema=tenant_a&application_name=gw',
    );
    expect(schema).toBe('tenant_a');
    const params = new URL(connectionString).searchParams;
    expect(params.get('schema')).toBeNull();
    expect(params.get('sslmode')).toBe('require');
    expect(params.get('application_name')).toBe('gw');
  });

  it('returns no schema and the URL unchanged when none is given', () => {
    expect(parseDatabaseUrl('postgresql://jifen@127.0.0.1:5432/jifen')).toEqual({
      connectionString: 'postgresql://jifen@127.0.0.1:5432/jifen',
      schema: undefined,
    });
  });

  it.each(['_private', 'a', 'run_2026_11_23', 'x'.repeat(63)])('accepts the schema name %j', (schema) => {
    expect(parseDatabaseUrl(`postgresql://h/db?schema=${schema}`).schema).toBe(schema);
  });

  it.each([
    ['upper case', 'Run1'],
    ['a leading digit', '1run'],
    ['a quote', 'a"b'],
    ['a semicolon', 'a;drop'],
    ['a dash', 'run-1'],
    ['a space', 'run%201'],
    ['64 characters', 'x'.repeat(64)],
    ['nothing', ''],
  ])('refuses a schema name with %s, naming DATABASE_URL', (_, schema) => {
    expect(() => parseDatabaseUrl(`postgresql://h/db?schema=${schema}`)).toThrow(/DATABASE_URL schema must be a lower-case SQL identifier/);
  });

  it('does not show the password when it refuses a schema name', () => {
    expect(() => parseDatabaseUrl('postgresql://jifen:hunter2@h/db?schema=Bad')).toThrow(
      expect.objectContaining({ message: expect.not.stringContaining('hunter2') }),
    );
  });
});
