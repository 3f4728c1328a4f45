import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { isScaled } from './support/test-mode';

jest.setTimeout(60_000);

const HARNESS = join(__dirname, '..', 'dist', 'test', 'support', 'supermarket-clock.harness.js');

/** The cancel window and the gift day, with the clock in the harness's hand (embedded database, no gateway). */
(isScaled ? describe.skip : describe)('the supermarket against a set clock', () => {
  let out: any;

  beforeAll(async () => {
    const { stdout } = await promisify(execFile)(process.execPath, [HARNESS], { maxBuffer: 1 << 20 });
    out = JSON.parse(stdout);
  });

  it('cancels within the window and refuses after it, saying what to do instead, changing nothing', () => {
    expect(new Date(out.cancellableUntil).getTime() - new Date(out.orderedAt).getTime()).toBe(30 * 60_000);
    expect(out.cancelAfter29Minutes).toMatchObject({ ok: true, value: { order: { status: 'cancelled' } } });
    expect(out.cancelAfter31Minutes).toMatchObject({ ok: false, code: 'cancel-window-passed' });
    expect(out.cancelAfter31Minutes.message).toContain('within 30 minutes');
    expect(out.cancelAfter31Minutes.message).toContain('ask a credit administrator to reverse its ledger entry');
    expect(out.lateOrderStatus).toBe('completed');
    expect(out.towelStock).toBe(9);
  });

  it("counts the gift limit by the community's day: a new day in Shanghai starts at 16:00 UTC", () => {
    expect(out.gift100).toMatchObject({ ok: true, value: { givenToday: 100, dailyLimit: 100 } });
    expect(out.gift1More).toMatchObject({
      ok: false,
      code: 'gift-limit-reached',
      details: { day: '2026-03-02', givenToday: 100, left: 0 },
    });
    expect(out.giftNextDay).toMatchObject({ ok: true, value: { givenToday: 40, isReplay: false } });
    expect(out.giftNextDayRetried).toMatchObject({ ok: true, value: { isReplay: true } });
    expect(out.verify).toMatchObject({ ok: true, firstMismatch: null });
  });
});
