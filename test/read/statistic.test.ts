import { describe, expect, it } from 'vitest';
import { add, formatFraction, fraction, multiply, parseDecimal, toNumber, ZERO } from '../../src/read/fraction.js';
import { endpointsLeftByPlace, statisticShare } from '../../src/read/statistic.js';

const share = (text: string, left: number | null) => {
  const f = statisticShare(text, left);
  return f && formatFraction(f);
};

describe('exact shares', () => {
  it('adds n shares of 1/n to exactly 1 where doubles do not', () => {
    for (let n = 1; n <= 64; n++) {
      let sum = ZERO;
      for (let i = 0; i < n; i++) sum = add(sum, fraction(1, n));
      expect(formatFraction(sum), `${n}`).toBe('1');
    }
    expect([1 / 6, 1 / 6, 1 / 6, 1 / 6, 1 / 6, 1 / 6].reduce((a, b) => a + b)).toBeLessThan(1);
  });

  it('reads decimals exactly and turns huge fractions into numbers', () => {
    expect(formatFraction(parseDecimal('0.3333333333')!)).toBe('3333333333/10000000000');
    expect(formatFraction(parseDecimal('1')!)).toBe('1');
    expect(parseDecimal('1e-3')).toBeNull();
    expect(parseDecimal('-0.5')).toBeNull();
    let small = fraction(1);
    for (let i = 0; i < 80; i++) small = multiply(small, parseDecimal('0.9999999999')!);
    expect(toNumber(small)).toBeCloseTo(0.9999999999 ** 80, 12);
  });
});

describe('statisticShare', () => {
  it('reads what rounding explains as the 1/k kube-proxy meant', () => {
    expect(share('0.1666666667', 6)).toBe('1/6');
    expect(share('0.1666666667', null)).toBe('1/6');
    expect(share('0.16666666651', null)).toBe('1/6');
    // Five decimals (old kube-proxy): only the chain's place tells 1/3000 from 1/3030.
    expect(share('0.00033', 3000)).toBe('1/3000');
    expect(share('0.00033', null)).toBe('33/100000');
    expect(share('0.0000100000', 100000)).toBe('1/100000');
  });

  it('takes any other probability as written', () => {
    expect(share('0.3', 3)).toBe('3/10');
    expect(share('0.00001', 200000)).toBe('1/100000');
    expect(share('0.000001', 200000)).toBe('1/1000000');
    expect(share('0', 2)).toBe('0');
    expect(share('1.5', 2)).toBe('1');
    expect(share('abc', 2)).toBeNull();
  });

  it('counts the endpoints each place in a kube-proxy chain leaves', () => {
    // affinity check, mark, three statistic rules, the last endpoint's rule.
    expect(endpointsLeftByPlace([false, false, true, true, true, false])).toEqual([null, null, 4, 3, 2, null]);
    expect(endpointsLeftByPlace([true, false, true, false])).toEqual([2, null, 2, null]);
  });
});
