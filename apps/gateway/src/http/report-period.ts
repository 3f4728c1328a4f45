import { z } from 'zod';

export const isBareDate = (v: string): boolean => /^\d{4}-\d{2}-\d{2}$/.test(v);

/**
 * A report's period bound, checked but kept as text: a bare date `YYYY-MM-DD`
 * as given (a calendar day; the report places it in a time zone), an ISO
 * date-time as a full ISO instant. Periods are half-open, [from, to).
 */
export const periodBoundText = (name: string) =>
  z
    .string({ error: `${name} is required (YYYY-MM-DD or an ISO date-time)` })
    .trim()
    .transform((v, ctx) => {
      const d = new Date(isBareDate(v) ? `${v}T00:00:00Z` : v);
      if (Number.isNaN(d.getTime()) || (isBareDate(v) && d.toISOString().slice(0, 10) !== v)) {
        ctx.addIssue({ code: 'custom', message: `${name} must be YYYY-MM-DD or an ISO date-time` });
        return z.NEVER;
      }
      return isBareDate(v) ? v : d.toISOString();
    });
