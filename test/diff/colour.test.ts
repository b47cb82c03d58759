import { describe, expect, it } from 'vitest';
import { painter, useColour } from '../../src/diff/format.js';

describe('diff colour', () => {
  it.each([
    ['a terminal', true, {}, true],
    ['a pipe', false, {}, false],
    ['NO_COLOR on a terminal', true, { NO_COLOR: '1' }, false],
    ['FORCE_COLOR on a pipe', false, { FORCE_COLOR: '1' }, true],
    ['FORCE_COLOR=0 on a terminal', true, { FORCE_COLOR: '0' }, false],
    ['FORCE_COLOR=false on a terminal', true, { FORCE_COLOR: 'false' }, false],
    ['an empty FORCE_COLOR on a pipe', false, { FORCE_COLOR: '' }, false],
    ['an empty NO_COLOR on a terminal', true, { NO_COLOR: '' }, true],
    ['FORCE_COLOR and NO_COLOR on a pipe', false, { FORCE_COLOR: '1', NO_COLOR: '1' }, true],
  ])('%s', (_, isTTY, env, expected) => {
    expect(useColour({ isTTY }, env)).toBe(expected);
  });

  it('paints with SGR codes whatever the stream, once colour is on', () => {
    expect(painter({ isTTY: false }, { FORCE_COLOR: '1' })('red', '- endpoint')).toBe('\x1b[31m- endpoint\x1b[39m');
    expect(painter({ isTTY: false }, {})('red', '- endpoint')).toBe('- endpoint');
  });
});
