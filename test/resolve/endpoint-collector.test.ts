import { describe, expect, it } from 'vitest';
import type { Endpoint } from '../../src/graph/types.js';
import { EndpointCollector, makeEndpoint } from '../../src/resolve/endpoint.js';
import { random } from '../helpers/random.js';

/** The rule as kube-proxy's cache states it: first copy kept, a ready copy replaces a not-ready one; then sorted by text. */
function reference(added: [string, Endpoint][]): Map<string, Endpoint[]> {
  const lists = new Map<string, Endpoint[]>();
  const at = new Map<string, number>();
  for (const [key, endpoint] of added) {
    let list = lists.get(key);
    if (!list) lists.set(key, (list = []));
    const id = `${key}|${endpoint.hostPort}`;
    const index = at.get(id);
    if (index === undefined) {
      at.set(id, list.length);
      list.push(endpoint);
    } else if (endpoint.ready && !list[index]!.ready) list[index] = endpoint;
  }
  for (const list of lists.values()) list.sort((a, b) => (a.hostPort < b.hostPort ? -1 : a.hostPort > b.hostPort ? 1 : 0));
  return lists;
}

describe('EndpointCollector', () => {
  it('keeps one endpoint per ip:port exactly as a lookup per endpoint would', () => {
    const next = random(3);
    for (let round = 0; round < 200; round++) {
      const added: [string, Endpoint][] = [];
      const count = Math.floor(next() * 30);
      for (let i = 0; i < count; i++) {
        const key = next() < 0.5 ? 'http/TCP' : 'dns/UDP';
        const facts = {
          ip: `10.0.0.${Math.floor(next() * 6)}`,
          port: next() < 0.8 ? 80 : 8080,
          // The node name tells copies of one ip:port apart.
          nodeName: `node-${i}`,
          zone: null,
          ready: next() < 0.5,
          serving: undefined,
          terminating: undefined,
          zoneHints: [],
          nodeHints: [],
        };
        added.push([key, makeEndpoint(facts, '')]);
      }
      const collector = new EndpointCollector();
      for (const [key, endpoint] of added) collector.add(key, 4, endpoint);
      const got = collector.finish('EndpointSlice').byPort;
      const want = reference(added);
      expect([...got.keys()].sort()).toEqual([...want.keys()].sort());
      for (const [key, list] of want) expect(got.get(key)![4].map((e) => e.nodeName)).toEqual(list.map((e) => e.nodeName));
    }
  });
});
