import { cardUidSchema } from '../../../protocol/src';

/** Clerks type or paste uids in many shapes ("04:a1:b2:c3", "04 A1 B2 C3"): strip separators, upper-case. */
export function normalizeCardUid(raw: string): string {
  return raw.replace(/[\s:-]/g, '').toUpperCase();
}

/** ISO 14443A: upper-case hex of 4, 7 or 10 bytes (after normalizeCardUid). */
export function isCardUid(uid: string): boolean {
  return cardUidSchema.safeParse(uid).success;
}
