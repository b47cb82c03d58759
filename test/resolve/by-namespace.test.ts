import { describe, expect, it } from 'vitest';
import { ByNamespace } from '../../src/resolve/by-namespace.js';

describe('ByNamespace', () => {
  it('keeps a name apart in each namespace, as joined namespace/name keys did', () => {
    const index = new ByNamespace<string>();
    index.set('a', 'web', 'a/web');
    index.set('b', 'web', 'b/web');
    index.set('a-b', 'web', 'a-b/web');
    expect(index.get('a', 'web')).toBe('a/web');
    expect(index.get('b', 'web')).toBe('b/web');
    expect(index.get('a-b', 'web')).toBe('a-b/web');
    expect(index.get('a', 'api')).toBeUndefined();
    expect(index.get('c', 'web')).toBeUndefined();
  });

  it('set replaces; getOrAdd makes a value once and then returns it', () => {
    const index = new ByNamespace<string[]>();
    const first = index.getOrAdd('ns', 'svc', () => []);
    first.push('x');
    expect(index.getOrAdd('ns', 'svc', () => ['not made'])).toBe(first);
    index.set('ns', 'svc', ['y']);
    expect(index.get('ns', 'svc')).toEqual(['y']);
  });
});
