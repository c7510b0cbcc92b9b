/**
 * Money is stored in whole cents (integers add up exactly) and leaves the ledger in dollars, as
 * the collections seed's JSON has it. Amounts we are given must have at most two decimals: an
 * amount like 10.005 is refused rather than rounded, because rounding someone's balance is a
 * decision, not a conversion.
 */

/** Above this an amount is a typo (and it keeps cents inside a 32-bit integer column). */
export const MAX_CENTS = 1_000_000_000;

export class InvalidAmountError extends Error {
  constructor(
    readonly input: string | number,
    reason: string,
  ) {
    super(`not a valid amount (${reason})`);
    this.name = 'InvalidAmountError';
  }
}

/** Dollars (a JSON number) → cents; throws on more than two decimals, negatives and absurd sizes. */
export function centsFromDollars(dollars: number): number {
  if (!Number.isFinite(dollars)) throw new InvalidAmountError(dollars, 'not a number');
  if (dollars < 0) throw new InvalidAmountError(dollars, 'negative');
  const cents = Math.round(dollars * 100);
  // 19.99 * 100 is 1998.9999999999998: within float noise of a whole cent is a whole cent.
  if (Math.abs(dollars * 100 - cents) > 1e-6) throw new InvalidAmountError(dollars, 'more than two decimals');
  if (cents > MAX_CENTS) throw new InvalidAmountError(dollars, 'too large');
  return cents;
}

const DECIMAL = /^\$?(\d{1,3}(?:,\d{3})+|\d+)(?:\.(\d{1,2}))?$/;

/** Text from a CSV cell ("1200", "1,200.50", "$75.5") → cents, exactly (no float on the way). */
export function centsFromText(text: string): number {
  const match = DECIMAL.exec(text.trim());
  if (!match) throw new InvalidAmountError(text, 'write it like 1200.50');
  const whole = Number((match[1] ?? '').replace(/,/g, ''));
  const fraction = Number((match[2] ?? '').padEnd(2, '0'));
  const cents = whole * 100 + fraction;
  if (!Number.isSafeInteger(cents) || cents > MAX_CENTS) throw new InvalidAmountError(text, 'too large');
  return cents;
}

export function dollarsFromCents(cents: number): number {
  return cents / 100;
}

/** A peer's dollar figure kept to whole cents (half away from zero), for display and arithmetic. */
export function roundToCents(dollars: number): number {
  const sign = dollars < 0 ? -1 : 1;
  // toFixed(8) first removes the float noise (1.005 is stored as 1.00499999…) before rounding half up.
  return (sign * Math.round(Number((Math.abs(dollars) * 100).toFixed(8)))) / 100;
}
