import { isCardUid, normalizeCardUid } from './card-uid';

describe('card uids', () => {
  it('normalises colons, dashes, spaces and case', () => {
    expect(normalizeCardUid('04:a1:b2:c3')).toBe('04A1B2C3');
    expect(normalizeCardUid(' 04 a1-b2 c3 d4 e5 f6 ')).toBe('04A1B2C3D4E5F6');
  });

  it('accepts 4, 7 and 10 bytes of hex only', () => {
    expect(isCardUid('04A1B2C3')).toBe(true);
    expect(isCardUid('04A1B2C3D4E5F6')).toBe(true);
    expect(isCardUid('04A1B2C3D4E5F6A7B8C9')).toBe(true);
    expect(isCardUid('04A1B2')).toBe(false);
    expect(isCardUid('04A1B2C3D4')).toBe(false);
    expect(isCardUid('04A1B2CG')).toBe(false);
    expect(isCardUid('04a1b2c3')).toBe(false);
  });
});
