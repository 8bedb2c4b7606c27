/**
 * Exact money arithmetic for the pricing module: amounts are bigint minor units, percentages are exact
 * integers of ten-thousandths of a percent, and nothing here ever goes through a float.
 */

export type RoundingRule = 'half_even' | 'half_up';

/** A percentage as an exact integer count of 1/10,000 %: "8.875" is 88_750n, "100" is 1_000_000n. */
export type ScaledPercent = bigint;

/** How many ten-thousandths of a percent make one percent; percentages carry at most 4 decimals. */
export const PERCENT_SCALE = 10_000n;
/** 100 % in ScaledPercent units: the denominator of "x percent of an amount". */
export const HUNDRED_PERCENT = 100n * PERCENT_SCALE;

/**
 * A decimal string ("8.875", "10", "0.5") as an exact ScaledPercent, or undefined when it is not one:
 * plain digits, no sign or exponent, at most 4 decimals, between 0 and 100 inclusive.
 */
export function parsePercent(text: string): ScaledPercent | undefined {
  const match = /^(0|[1-9][0-9]{0,2})(?:\.([0-9]{1,4}))?$/.exec(text);
  if (match === null) return undefined;
  const whole = BigInt(match[1] ?? '0');
  const fraction = BigInt((match[2] ?? '').padEnd(4, '0'));
  const scaled = whole * PERCENT_SCALE + fraction;
  return scaled <= HUNDRED_PERCENT ? scaled : undefined;
}

export const isPercentString = (text: string): boolean => parsePercent(text) !== undefined;

/**
 * numerator / denominator rounded to an integer, for a non-negative numerator and a positive
 * denominator. A tie goes up with `half_up` and to the even neighbour with `half_even` (banker's rounding).
 */
export function divideRounded(numerator: bigint, denominator: bigint, rule: RoundingRule): bigint {
  if (numerator < 0n || denominator <= 0n) throw new RangeError('divideRounded takes a non-negative numerator and a positive denominator');
  const quotient = numerator / denominator;
  const twiceRemainder = (numerator % denominator) * 2n;
  if (twiceRemainder < denominator) return quotient;
  if (twiceRemainder > denominator) return quotient + 1n;
  return rule === 'half_up' || quotient % 2n === 1n ? quotient + 1n : quotient;
}

/** `percent` of `amount`, rounded once with the rule. */
export function percentOf(amount: bigint, percent: ScaledPercent, rule: RoundingRule): bigint {
  return divideRounded(amount * percent, HUNDRED_PERCENT, rule);
}

/**
 * Splits `total` into parts proportional to `weights` that add up to exactly `total` (largest remainder,
 * Hamilton's method): each part gets the floor of its exact share, and the units left over go one each to
 * the parts with the largest fractional remainders, the earlier part first on a tie. When every weight is
 * zero the parts are equal shares. A part never exceeds its exact share rounded up, so when
 * `total <= sum(weights)` no part exceeds its own weight.
 */
export function spreadByLargestRemainder(total: bigint, weights: readonly bigint[]): bigint[] {
  if (total < 0n) throw new RangeError('only a non-negative amount can be spread');
  if (weights.length === 0) {
    if (total === 0n) return [];
    throw new RangeError('an amount cannot be spread over nothing');
  }
  if (weights.some((weight) => weight < 0n)) throw new RangeError('weights must be non-negative');
  const sum = weights.reduce((a, b) => a + b, 0n);
  const effective = sum === 0n ? weights.map(() => 1n) : weights;
  const divisor = sum === 0n ? BigInt(weights.length) : sum;
  const parts = effective.map((weight) => (total * weight) / divisor);
  let left = total - parts.reduce((a, b) => a + b, 0n);
  const byRemainder = effective
    .map((weight, index) => ({ index, remainder: (total * weight) % divisor }))
    .sort((a, b) => (a.remainder === b.remainder ? a.index - b.index : a.remainder > b.remainder ? -1 : 1));
  for (const { index } of byRemainder) {
    if (left === 0n) break;
    parts[index] = (parts[index] ?? 0n) + 1n;
    left -= 1n;
  }
  return parts;
}

/**
 * ISO 4217 minor units (the number of decimals of the currency's smallest unit). A table rather than
 * `Intl.NumberFormat`'s `maximumFractionDigits`: ICU's display digits differ from ISO for several
 * currencies (it gives COP, HUF, IDR and PKR no decimals where ISO has 2, and IQD none where ISO has 3),
 * and the amount a payment provider expects follows ISO.
 */
export function minorUnits(currency: string): number {
  const exceptions: Record<string, number> = {
    BIF: 0,
    CLP: 0,
    DJF: 0,
    GNF: 0,
    ISK: 0,
    JPY: 0,
    KMF: 0,
    KRW: 0,
    PYG: 0,
    RWF: 0,
    UGX: 0,
    UYI: 0,
    VND: 0,
    VUV: 0,
    XAF: 0,
    XOF: 0,
    XPF: 0,
    BHD: 3,
    IQD: 3,
    JOD: 3,
    KWD: 3,
    LYD: 3,
    OMR: 3,
    TND: 3,
    CLF: 4,
    UYW: 4,
  };
  return exceptions[currency.toUpperCase()] ?? 2;
}

/** A bigint result as a JSON number; refuses one a number cannot hold exactly. */
export function toSafeNumber(value: bigint, what: string): number {
  if (value > BigInt(Number.MAX_SAFE_INTEGER) || value < BigInt(Number.MIN_SAFE_INTEGER)) {
    throw new RangeError(`${what} is beyond what a JSON number holds exactly`);
  }
  return Number(value);
}
