/**
 * Money inside the collections domain is whole cents: integers add up exactly, floats do not
 * (0.1 + 0.2). Dollars appear only at the edges, because the seed's JSON speaks dollars.
 */

/** Dollars → cents, to the nearest cent (19.99 * 100 is 1998.9999999999998). */
export function toCents(dollars: number): number {
  return Math.round(dollars * 100);
}

/** Cents → dollars with two decimals, as the seed's JSON has them. */
export function toDollars(cents: number): number {
  return cents / 100;
}
