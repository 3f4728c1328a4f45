import { ConfigError, isEmbeddedBroker, loadGatewayConfig } from './gateway-config';

/** Runs loadGatewayConfig and returns the ConfigError it throws. */
function configError(env: NodeJS.ProcessEnv): ConfigError {
  try {
    loadGatewayConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  throw new Error(`expected ${JSON.stringify(env)} to be refused`);
}

/** The one problem reported for a variable (fails if there is not exactly one). */
function problemFor(env: NodeJS.ProcessEnv, name: string): string {
  const problems = configError(env).problems.filter((p) => p.startsWith(`${name}:`));
  expect(problems).toHaveLength(1);
  return problems[0]!;
}

const GOOD_TOKEN = 'a-long-enough-admin-token-0123456789';

describe('loadGatewayConfig', () => {
  describe('defaults', () => {
    const config = () => loadGatewayConfig({});

    it('listens for HTTP on port 3000', () => {
      expect(config().HTTP_PORT).toBe(3000);
    });

    it('runs MQTT on port 1883', () => {
      expect(config().MQTT_PORT).toBe(1883);
    });

    it('keeps its data in ./data', () => {
      expect(config().DATA_DIR).toBe('./data');
    });

    it('logs at info', () => {
      expect(config().LOG_LEVEL).toBe('info');
    });

    it('embeds the broker and the database when no URL is given', () => {
      expect(config().MQTT_URL).toBeUndefined();
      expect(config().DATABASE_URL).toBeUndefined();
      expect(isEmbeddedBroker(config())).toBe(true);
    });

    it('accepts events up to 7 days late', () => {
      expect(config().LATENESS_DAYS).toBe(7);
    });

    it('allows 600 admin API calls per token and minute', () => {
      expect(config().API_RATE_LIMIT_PER_MINUTE).toBe(600);
    });

    it('states the PostgreSQL pool and timeouts: 10 connections, 30 s statements, 10 s lock waits, 5 attempts', () => {
      expect(config()).toMatchObject({
        DATABASE_POOL_SIZE: 10,
        DATABASE_STATEMENT_TIMEOUT_MS: 30_000,
        DATABASE_LOCK_TIMEOUT_MS: 10_000,
        DATABASE_TRANSACTION_ATTEMPTS: 5,
      });
    });

    it('paces a scaled replica at 4,096 publishes awaiting the broker', () => {
      expect(config().MQTT_MAX_UNCONFIRMED_PUBLISHES).toBe(4096);
    });

    it('ignores variables it does not know', () => {
      expect(loadGatewayConfig({ PATH: '/usr/bin', HOME: '/root' })).toEqual(config());
    });
  });

  describe('values that are set', () => {
    it('reads numbers from their strings', () => {
      expect(loadGatewayConfig({ HTTP_PORT: '8080', MQTT_PORT: '0', LATENESS_DAYS: '30' })).toMatchObject({
        HTTP_PORT: 8080,
        MQTT_PORT: 0,
        LATENESS_DAYS: 30,
      });
    });

    it('takes 0 as "no timeout" and refuses a negative or fractional one by name', () => {
      expect(loadGatewayConfig({ DATABASE_LOCK_TIMEOUT_MS: '0' }).DATABASE_LOCK_TIMEOUT_MS).toBe(0);
      expect(problemFor({ DATABASE_STATEMENT_TIMEOUT_MS: '-1' }, 'DATABASE_STATEMENT_TIMEOUT_MS')).toMatch(/0 \(no limit\) or more/);
      expect(problemFor({ DATABASE_LOCK_TIMEOUT_MS: '2.5' }, 'DATABASE_LOCK_TIMEOUT_MS')).toMatch(/whole number/);
      expect(problemFor({ DATABASE_TRANSACTION_ATTEMPTS: '0' }, 'DATABASE_TRANSACTION_ATTEMPTS')).toMatch(/at least 1/);
    });

    it('bounds the publishes awaiting the broker by what 16-bit packet ids leave room for', () => {
      expect(loadGatewayConfig({ MQTT_MAX_UNCONFIRMED_PUBLISHES: '32768' }).MQTT_MAX_UNCONFIRMED_PUBLISHES).toBe(32_768);
      expect(problemFor({ MQTT_MAX_UNCONFIRMED_PUBLISHES: '32769' }, 'MQTT_MAX_UNCONFIRMED_PUBLISHES')).toMatch(/at most 32768/);
      expect(problemFor({ MQTT_MAX_UNCONFIRMED_PUBLISHES: '0' }, 'MQTT_MAX_UNCONFIRMED_PUBLISHES')).toMatch(/at least 1/);
    });

    it('accepts broker and PostgreSQL URLs', () => {
      const config = loadGatewayConfig({
        MQTT_URL: 'mqtts://broker.example:8883',
        DATABASE_URL: 'postgresql://jifen@127.0.0.1:5432/jifen?schema=run_1',
      });
      expect(config.MQTT_URL).toBe('mqtts://broker.example:8883');
      expect(config.DATABASE_URL).toBe('postgresql://jifen@127.0.0.1:5432/jifen?schema=run_1');
      expect(isEmbeddedBroker(config)).toBe(false);
    });

    it('accepts an admin token of 24 characters', () => {
      expect(loadGatewayConfig({ ADMIN_TOKEN: 'x'.repeat(24) }).ADMIN_TOKEN).toBe('x'.repeat(24));
    });
  });

  describe('empty strings', () => {
    it.each(['MQTT_URL', 'DATABASE_URL'])('treats an empty %s as unset', (name) => {
      expect(loadGatewayConfig({ [name]: '' })).toEqual(loadGatewayConfig({}));
    });

    it('treats an empty ADMIN_TOKEN as unset rather than too short', () => {
      expect(loadGatewayConfig({ ADMIN_TOKEN: '' }).ADMIN_TOKEN).toBeUndefined();
    });

    // Regression: z.coerce.number() once turned HTTP_PORT= (as a compose file's
    // `HTTP_PORT=${HTTP_PORT}` gives) into port 0, "any free port".
    it.each(['HTTP_PORT', 'MQTT_PORT'])('treats an empty %s as unset, not as port 0', (name) => {
      expect(loadGatewayConfig({ [name]: '' })).toEqual(loadGatewayConfig({}));
    });
  });

  describe('bad variables', () => {
    it.each<[string, string, RegExp]>([
      ['HTTP_PORT', 'abc', /must be a port number/],
      ['HTTP_PORT', '80.5', /must be a whole number/],
      ['HTTP_PORT', '-1', /between 0 and 65535/],
      ['MQTT_PORT', '70000', /between 0 and 65535/],
      ['MQTT_URL', 'http://x', /must be a broker URL/],
      ['MQTT_URL', 'not a url', /must be a broker URL/],
      ['DATABASE_URL', 'mysql://x', /must be a PostgreSQL URL/],
      ['LOG_LEVEL', 'loud', /expected one of/],
      ['LATENESS_DAYS', '0', /at least 1/],
      ['API_RATE_LIMIT_PER_MINUTE', '0', /at least 1/],
      ['API_RATE_LIMIT_PER_MINUTE', 'lots', /must be a number/],
      ['MQTT_SHARE_GROUP', 'has spaces', /1-32 letters/],
    ])('names %s=%s and says what is wrong', (name, value, what) => {
      const problem = problemFor({ [name]: value }, name);
      expect(problem).toMatch(what);
      expect(problem).toContain(JSON.stringify(value));
    });

    it('says an admin token is too short without ever showing it', () => {
      const token = 'too-short-secret-17';
      const err = configError({ ADMIN_TOKEN: token });
      expect(problemFor({ ADMIN_TOKEN: token }, 'ADMIN_TOKEN')).toMatch(/ADMIN_TOKEN must be at least 24 characters/);
      expect(err.message).not.toContain(token);
      expect(err.problems.join('\n')).not.toContain(token);
      expect(String(err.stack)).not.toContain(token);
    });

    it('reports every bad variable together, each by name', () => {
      const err = configError({
        HTTP_PORT: 'abc',
        MQTT_PORT: '70000',
        MQTT_URL: 'http://x',
        DATABASE_URL: 'mysql://x',
        ADMIN_TOKEN: 'short',
        DATA_DIR: './elsewhere',
      });
      expect(err.problems.map((p) => p.split(':')[0])).toEqual(
        expect.arrayContaining(['HTTP_PORT', 'MQTT_PORT', 'MQTT_URL', 'DATABASE_URL', 'ADMIN_TOKEN']),
      );
      expect(err.problems).toHaveLength(5);
      for (const name of ['HTTP_PORT', 'MQTT_PORT', 'MQTT_URL', 'DATABASE_URL', 'ADMIN_TOKEN']) {
        expect(err.message).toContain(`  - ${name}: `);
      }
      expect(err.message).not.toContain('DATA_DIR');
    });

    it('is a ConfigError named as such', () => {
      const err = configError({ HTTP_PORT: 'abc' });
      expect(err).toBeInstanceOf(Error);
      expect(err.name).toBe('ConfigError');
      expect(err.message).toMatch(/^invalid configuration:\n/);
    });

    it('accepts a good token alongside a bad variable without showing the token', () => {
      expect(configError({ ADMIN_TOKEN: GOOD_TOKEN, HTTP_PORT: 'abc' }).message).not.toContain(GOOD_TOKEN);
    });

    // Regression: a refused DATABASE_URL or MQTT_URL was once echoed whole, password included.
    it.each([
      ['DATABASE_URL', 'postgresx://jifen:hunter2-secret@db:5432/jifen'],
      ['MQTT_URL', 'http://gateway:hunter2-secret@broker:1883'],
    ])('does not show the password inside a refused %s', (name, value) => {
      const err = configError({ [name]: value });
      expect(err.message).toContain(name);
      expect(err.message).not.toContain('hunter2-secret');
    });
  });
});
