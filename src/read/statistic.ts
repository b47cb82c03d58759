import { compare, fraction, ONE, parseDecimal, type Fraction } from './fraction.js';

/**
 * The exact share an iptables `-m statistic --mode random --probability P`
 * rule takes of what reaches it. kube-proxy means 1/k for the rule that has
 * k endpoints left (the last endpoint's rule has no statistic), but writes it
 * rounded: ten decimals now (`%0.10f`), five in old releases, and a kernel
 * round trip keeps it in steps of 2^-31 and prints eleven (0.3333333333 is
 * listed as 0.33333333349). Read literally, six endpoints' shares would not
 * add up to 1; read as the 1/k they stand for, they add up exactly.
 *
 * So P is 1/k when it is that within what rounding explains: within 1e-5 of
 * 1/endpointsLeft, the k its place in the chain calls for (a run of statistic
 * rules and the rule after it), and closer to it than to half or twice it; or
 * within 1e-9 (ten decimals plus the kernel's step) of the nearest 1/k.
 * Anything else is a probability kube-proxy does not write, taken exactly as
 * written. Null when P is not a decimal number.
 */
export function statisticShare(text: string, endpointsLeft: number | null): Fraction | null {
  const written = parseDecimal(text);
  if (!written) return null;
  if (compare(written, ONE) >= 0) return ONE;
  const p = Number(text);
  if (endpointsLeft !== null && isOneIn(p, endpointsLeft)) return fraction(1, endpointsLeft);
  const k = Math.round(1 / p);
  if (Number.isSafeInteger(k) && k >= 2 && Math.abs(p - 1 / k) <= TEN_DECIMALS) return fraction(1, k);
  return written;
}

/** Whether p is 1/k as kube-proxy writes it, at a place that leaves k endpoints (k >= 2). */
export function isOneIn(p: number, k: number): boolean {
  return k >= 2 && Math.abs(p - 1 / k) <= Math.min(OLD_SPELLING, 1 / (2 * k));
}

/** Half the last place of five decimals, and the kernel's 2^-31 step on top: 0.33333 is 1/3. */
const OLD_SPELLING = 1e-5;
/** Half the last place of ten decimals (5e-11), the kernel's step (4.7e-10), and eleven printed decimals. */
const TEN_DECIMALS = 1e-9;

/**
 * For each rule of a chain (given as "has a probability" flags), how many
 * endpoints its place leaves if the chain is kube-proxy's: a run of statistic
 * rules is followed by one rule without, so the run's last rule leaves 2.
 */
export function endpointsLeftByPlace(hasProbability: boolean[]): (number | null)[] {
  const left: (number | null)[] = new Array(hasProbability.length).fill(null);
  let count = 1;
  for (let i = hasProbability.length - 1; i >= 0; i--) {
    if (hasProbability[i]) left[i] = ++count;
    else count = 1;
  }
  return left;
}
