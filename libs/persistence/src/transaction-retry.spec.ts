import { DEFAULT_RETRY_POLICY, isRetryableTransactionError, retryDelayMs, withTransactionRetry } from './transaction-retry';

const pgError = (code: string, message = 'x') => Object.assign(new Error(message), { code });

describe('the retry decision for a failed transaction', () => {
  it.each([
    ['40001', 'could not serialize access due to concurrent update'],
    ['40P01', 'deadlock detected'],
    ['55P03', 'canceling statement due to lock timeout'],
  ])('retries SQLSTATE %s (%s)', (code, message) => {
    expect(isRetryableTransactionError(pgError(code, message))).toBe(true);
  });

  it.each([
    ['57014', 'statement timeout: the same statement would be as slow again'],
    ['23505', 'unique violation: a real conflict, not a race'],
    ['23503', 'foreign key violation'],
    ['08006', 'connection failure: the commit may have happened'],
  ])('does not retry SQLSTATE %s (%s)', (code) => {
    expect(isRetryableTransactionError(pgError(code))).toBe(false);
  });

  it('does not retry errors without a SQLSTATE (a bug in our code, a domain error)', () => {
    expect(isRetryableTransactionError(new Error('boom'))).toBe(false);
    expect(isRetryableTransactionError(Object.assign(new Error('not-found'), { code: 'not-found' }))).toBe(false);
    expect(isRetryableTransactionError('40001')).toBe(false);
    expect(isRetryableTransactionError(null)).toBe(false);
  });

  it('draws the pause below a doubling cap, and gives up after the last attempt', () => {
    const policy = { maxAttempts: 4, baseDelayMs: 10, maxDelayMs: 30 };
    const err = pgError('40P01');
    expect(retryDelayMs(err, 1, policy, () => 0.999)).toBe(10);
    expect(retryDelayMs(err, 2, policy, () => 0.999)).toBe(20);
    expect(retryDelayMs(err, 3, policy, () => 0.999)).toBe(30); // capped, not 40
    expect(retryDelayMs(err, 3, policy, () => 0)).toBe(0);
    expect(retryDelayMs(err, 4, policy, () => 0.5)).toBeNull();
    expect(retryDelayMs(pgError('23505'), 1, policy)).toBeNull();
  });

  it('jitters: two replicas that collided draw different pauses', () => {
    const draws = new Set(Array.from({ length: 50 }, () => retryDelayMs(pgError('40001'), 3, DEFAULT_RETRY_POLICY)));
    expect(draws.size).toBeGreaterThan(5);
  });
});

describe('withTransactionRetry', () => {
  const noSleep = { sleep: () => Promise.resolve(), random: () => 0.5 };

  it('runs the transaction again after a deadlock and returns the later success', async () => {
    let attempts = 0;
    const result = await withTransactionRetry(
      () => {
        attempts++;
        return attempts < 3 ? Promise.reject(pgError('40P01')) : Promise.resolve('committed');
      },
      DEFAULT_RETRY_POLICY,
      noSleep,
    );
    expect(result).toBe('committed');
    expect(attempts).toBe(3);
  });

  it('passes a non-retryable error through after one attempt', async () => {
    let attempts = 0;
    await expect(
      withTransactionRetry(
        () => {
          attempts++;
          return Promise.reject(pgError('23505', 'duplicate key'));
        },
        DEFAULT_RETRY_POLICY,
        noSleep,
      ),
    ).rejects.toThrow('duplicate key');
    expect(attempts).toBe(1);
  });

  it('stops after maxAttempts and throws the last serialization failure', async () => {
    const retried: number[] = [];
    let attempts = 0;
    await expect(
      withTransactionRetry(
        () => {
          attempts++;
          return Promise.reject(pgError('40001', `failure ${attempts}`));
        },
        { maxAttempts: 3, baseDelayMs: 10, maxDelayMs: 100 },
        { ...noSleep, onRetry: (_err, attempt) => retried.push(attempt) },
      ),
    ).rejects.toThrow('failure 3');
    expect(attempts).toBe(3);
    expect(retried).toEqual([1, 2]);
  });
});
