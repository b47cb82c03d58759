/**
 * Exact shares of traffic. Six endpoints of 1/6 each must add up to exactly
 * 1: in floating point they come to 0.9999999999999999, and a tracer that
 * gives "the rest" to whatever comes after a numgen map invented a 0% REJECT
 * path. Numerator and denominator are bigints because a chain of ten-decimal
 * probabilities multiplies denominators of 10^10 at each step.
 */
export interface Fraction {
  /** In lowest terms, with den > 0. */
  readonly num: bigint;
  readonly den: bigint;
}

export const ZERO: Fraction = { num: 0n, den: 1n };
export const ONE: Fraction = { num: 1n, den: 1n };

export function fraction(num: bigint | number, den: bigint | number = 1n): Fraction {
  let n = BigInt(num);
  let d = BigInt(den);
  if (d === 0n) throw new RangeError('a fraction with denominator 0');
  if (d < 0n) [n, d] = [-n, -d];
  const g = gcd(n < 0n ? -n : n, d);
  return g > 1n ? { num: n / g, den: d / g } : { num: n, den: d };
}

function gcd(a: bigint, b: bigint): bigint {
  while (b !== 0n) [a, b] = [b, a % b];
  return a;
}

export function add(a: Fraction, b: Fraction): Fraction {
  return a.den === b.den ? fraction(a.num + b.num, a.den) : fraction(a.num * b.den + b.num * a.den, a.den * b.den);
}

export function subtract(a: Fraction, b: Fraction): Fraction {
  return add(a, { num: -b.num, den: b.den });
}

export function multiply(a: Fraction, b: Fraction): Fraction {
  return fraction(a.num * b.num, a.den * b.den);
}

export function isZero(a: Fraction): boolean {
  return a.num === 0n;
}

/** -1, 0 or 1 as a is less than, equal to or greater than b. */
export function compare(a: Fraction, b: Fraction): number {
  const left = a.num * b.den;
  const right = b.num * a.den;
  return left < right ? -1 : left > right ? 1 : 0;
}

export function equals(a: Fraction, b: Fraction): boolean {
  return a.num === b.num && a.den === b.den;
}

/** The nearest double (to 17 digits; a plain Number() of a 10^600 denominator is Infinity). */
export function toNumber(a: Fraction): number {
  if (a.num >= -(2n ** 53n) && a.num <= 2n ** 53n && a.den <= 2n ** 53n) return Number(a.num) / Number(a.den);
  const scale = 10n ** 17n;
  return Number((a.num * scale) / a.den) / 1e17;
}

/** `1/6`, `1`, `0`. */
export function formatFraction(a: Fraction): string {
  return a.den === 1n ? String(a.num) : `${a.num}/${a.den}`;
}

/** A plain decimal as written (`0.3333333333`, `1`, `.5`) exactly, or null when it is not one. */
export function parseDecimal(text: string): Fraction | null {
  const match = /^(\d*)(?:\.(\d*))?$/.exec(text);
  if (!match || (match[1] === '' && !match[2])) return null;
  const decimals = match[2] ?? '';
  return fraction(BigInt(`${match[1] || '0'}${decimals}`), 10n ** BigInt(decimals.length));
}
