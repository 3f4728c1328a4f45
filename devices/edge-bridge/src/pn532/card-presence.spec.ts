import { CardPresence } from './card-presence';

describe('CardPresence', () => {
  it('makes one tap of a card held on the reader for many polls', () => {
    const p = new CardPresence(500);
    const taps = [0, 150, 300, 450, 600, 750, 900].flatMap((t) => p.sighted(['04A224125F6180'], t));
    expect(taps).toEqual(['04A224125F6180']);
  });

  it('makes a second tap when the card was taken away and brought back', () => {
    const p = new CardPresence(500);
    expect(p.sighted(['DEADBEEF'], 0)).toEqual(['DEADBEEF']);
    expect(p.sighted([], 300)).toEqual([]);
    expect(p.sighted(['DEADBEEF'], 1200)).toEqual(['DEADBEEF']);
  });

  it('keeps a card that misses one poll (a weak read) as the same tap', () => {
    const p = new CardPresence(500);
    p.sighted(['DEADBEEF'], 0);
    p.sighted([], 150);
    expect(p.sighted(['DEADBEEF'], 300)).toEqual([]);
  });

  it('tells two cards apart', () => {
    const p = new CardPresence(500);
    expect(p.sighted(['AAAAAAAA'], 0)).toEqual(['AAAAAAAA']);
    expect(p.sighted(['BBBBBBBB'], 100)).toEqual(['BBBBBBBB']);
  });
});
