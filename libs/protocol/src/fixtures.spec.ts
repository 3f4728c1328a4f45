import { decodePayload, readableEventId } from './decode';
import { FIXTURE_SCHEMAS, fixtureSchemas, invalidFixtures, rawFixtures, validFixtures } from './fixtures';

const issuePaths = (payload: unknown, schema: (typeof FIXTURE_SCHEMAS)[number]): string[] => {
  const result = fixtureSchemas[schema].safeParse(payload);
  if (result.success) return [];
  return [...new Set(result.error.issues.map((i) => i.path.join('.')))];
};

describe('protocol fixtures', () => {
  it('have unique names per message kind', () => {
    const names = [...validFixtures, ...invalidFixtures, ...rawFixtures].map((f) => `${f.schema}: ${f.name}`);
    expect(new Set(names).size).toBe(names.length);
  });

  it.each(FIXTURE_SCHEMAS)('cover %s with valid and invalid payloads and an example', (schema) => {
    expect(validFixtures.filter((f) => f.schema === schema).length).toBeGreaterThan(0);
    expect(invalidFixtures.filter((f) => f.schema === schema).length).toBeGreaterThan(0);
    expect(validFixtures.some((f) => f.schema === schema && f.example)).toBe(true);
  });

  describe('valid payloads', () => {
    it.each(validFixtures.map((f) => [`${f.schema}: ${f.name}`, f] as const))('accepts %s', (_, fixture) => {
      const result = fixtureSchemas[fixture.schema].safeParse(fixture.payload);
      expect(result.error?.issues).toBeUndefined();
      // Unknown fields are stripped; everything else comes through unchanged.
      expect(result.data).toEqual(fixture.output ?? fixture.payload);
    });
  });

  describe('invalid payloads', () => {
    it.each(invalidFixtures.map((f) => [`${f.schema}: ${f.name}`, f] as const))('rejects %s at the stated path', (_, fixture) => {
      const result = fixtureSchemas[fixture.schema].safeParse(fixture.payload);
      expect(result.success).toBe(false);
      // Exactly one failing path, so the fixture fails for the reason it states and no other.
      expect(issuePaths(fixture.payload, fixture.schema)).toEqual([fixture.expect.path]);
      if (fixture.expect.messageIncludes !== undefined) {
        const messages = result.error?.issues.map((i) => i.message).join('; ');
        expect(messages).toContain(fixture.expect.messageIncludes);
      }
    });
  });

  describe('raw payload bytes', () => {
    it.each(rawFixtures.map((f) => [f.name, f] as const))('decodes %s as expected', (_, fixture) => {
      const result = decodePayload(fixture.bytes, fixtureSchemas[fixture.schema]);
      if (fixture.expect.ok) {
        expect(result).toMatchObject({ ok: true });
        return;
      }
      expect(result).toMatchObject({ ok: false, error: fixture.expect.error });
      if (!result.ok && fixture.expect.readableEventId !== undefined) {
        expect(readableEventId(result)).toBe(fixture.expect.readableEventId);
      }
    });
  });
});
