import { describe, expect, it } from 'vitest';
import { matchesSelector, parseLabelSelector } from '../../src/model/label-selector.js';

const labels = { app: 'web', tier: 'frontend', 'example.com/team': 'shop' };
const matches = (selector: string, on: Record<string, string> = labels) => matchesSelector(parseLabelSelector(selector), on);

describe('label selectors, as kubectl -l reads them', () => {
  it.each([
    ['app=web', true],
    ['app==web', true],
    ['app!=web', false],
    ['app!=db', true],
    ['missing!=x', true],
    ['app=web,tier=frontend', true],
    ['app=web,tier=backend', false],
    ['tier in (frontend, backend)', true],
    ['tier notin (frontend,backend)', false],
    ['missing notin (a)', true],
    ['example.com/team', true],
    ['!example.com/team', false],
    ['!missing', true],
    ['app in (web),!missing,tier', true],
    ['app=', false],
  ])('%s', (selector, expected) => {
    expect(matches(selector)).toBe(expected);
  });

  it('matches an empty value only where the label is empty', () => {
    expect(matches('app=', { app: '' })).toBe(true);
  });

  it.each(['a b', 'app=web,', 'app in web', 'app=we b', 'tier in (a b)', '=web'])('refuses %j with a message that shows the form', (selector) => {
    expect(() => parseLabelSelector(selector)).toThrow(/requirement|label value|empty/);
  });
});
