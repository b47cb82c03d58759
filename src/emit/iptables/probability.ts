/** By n: a 10k-service rule set asks for the same few hundred values some 100k times. */
const known = new Map<number, string>();

/**
 * kube-proxy writes 1/n with Go's "%0.10f": the exact decimal value of the
 * double, rounded half to even. JavaScript's toFixed rounds half up, which
 * differs only on exact ties (1/2048 = 0.00048828125), so those are fixed.
 */
export function probability(n: number): string {
  let text = known.get(n);
  if (text === undefined) {
    text = goFixed10(1 / n);
    known.set(n, text);
  }
  return text;
}

function goFixed10(x: number): string {
  const fixed = x.toFixed(10);
  const long = x.toFixed(20);
  const isTie = long[12] === '5' && /^0*$/.test(long.slice(13));
  if (!isTie) return fixed;
  const truncated = long.slice(0, 12);
  const lastDigit = Number(truncated[11]);
  // Ties round to the even last digit: an even digit stays, an odd one rounds up (toFixed's answer).
  return lastDigit % 2 === 0 ? truncated : fixed;
}
