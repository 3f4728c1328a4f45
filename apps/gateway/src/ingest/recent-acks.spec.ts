import { RecentAcks } from './recent-acks';

describe('RecentAcks', () => {
  it('forgets the oldest ack past its capacity', () => {
    const acks = new RecentAcks(2);
    acks.remember('a', '1');
    acks.remember('b', '2');
    acks.remember('c', '3');
    expect([acks.get('a'), acks.get('b'), acks.get('c'), acks.size]).toEqual([undefined, '2', '3', 2]);
  });

  it('counts a remembered-again ack as young', () => {
    const acks = new RecentAcks(2);
    acks.remember('a', '1');
    acks.remember('b', '2');
    acks.remember('a', '1');
    acks.remember('c', '3');
    expect([acks.get('a'), acks.get('b')]).toEqual(['1', undefined]);
  });

  it('keeps nothing with capacity 0 and refuses a negative one', () => {
    const none = new RecentAcks(0);
    none.remember('a', '1');
    expect(none.get('a')).toBeUndefined();
    expect(() => new RecentAcks(-1)).toThrow(RangeError);
  });
});
