import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { dump, loadAll } from 'js-yaml';
import { describe, expect, it } from 'vitest';
import { compileGraph, emit, type Mode } from '../../src/compile.js';
import { diffModels } from '../../src/diff/diff.js';
import { formatText } from '../../src/diff/format.js';
import { mergeModels, readRuleSet } from '../../src/read/index.js';
import { FIXTURES, compileFixture, fixtureCases, render } from '../helpers/fixtures.js';

const NODE = { nodeName: 'node-a', nodeIPs: ['192.0.2.10'], clusterCIDRs: ['10.244.0.0/16'] };

function model(text: string, mode: Mode) {
  const { graph } = compileGraph([{ name: 'x.yaml', text }], NODE);
  return mergeModels((mode === 'iptables' ? [4, 6] : [4]).map((family) => readRuleSet(emit(graph, { mode, family: family as 4 | 6 }), mode)));
}

describe('diff', () => {
  for (const fixture of fixtureCases()) {
    it(`${fixture.name}: a rule set is the same as itself, in every mode`, async () => {
      const graph = await compileFixture(fixture);
      for (const text of [render(graph, 'iptables'), render(graph, 'nftables'), render(graph, 'ipvs')]) {
        expect(diffModels(readRuleSet(text), readRuleSet(text)).changes).toEqual([]);
      }
    });
  }

  // kpc diff between two modes' output of the same manifests (the IPVS document read with its ipsets and iptables parts).
  const crossMode: { fixture: string; expected: { kind: string; frontend: string; before: string | null; after: string | null }[] }[] = [
    { fixture: 'loadbalancer-source-ranges', expected: [] },
    { fixture: 'nodeport', expected: [] },
    { fixture: 'session-affinity', expected: [] },
    { fixture: 'masquerade-all', expected: [] },
    { fixture: 'no-endpoints', expected: [] },
    { fixture: 'udp-sctp', expected: [] },
    {
      // IPVS's documented differences for externalTrafficPolicy Local: no short circuit, and a fallback to all endpoints where the others drop.
      fixture: 'external-traffic-local',
      expected: [
        { kind: 'short-circuit-changed', frontend: 'IPv4 tcp nodeport 30083', before: '10.244.2.3:80', after: 'none' },
        { kind: 'endpoint-added', frontend: 'IPv4 tcp nodeport 30083', before: null, after: '10.244.2.3:80' },
        { kind: 'verdict-changed', frontend: 'IPv4 tcp nodeport 30083', before: 'drop', after: 'forward' },
        { kind: 'short-circuit-changed', frontend: 'IPv4 tcp nodeport 30082', before: '10.244.1.2:80, 10.244.2.2:80', after: 'none' },
      ],
    },
  ];
  for (const mode of ['iptables', 'nftables'] as Mode[]) {
    for (const c of crossMode) {
      it(`${c.fixture}: ${mode} against IPVS reports ${c.expected.length ? "only IPVS's documented differences" : 'no difference'}`, async () => {
        const graph = await compileFixture(fixtureCases().find((f) => f.name === c.fixture)!);
        const families = mode === 'iptables' ? ([4, 6] as const) : ([4] as const);
        const left = mergeModels(families.map((family) => readRuleSet(emit(graph, { mode, family }), mode)));
        const report = diffModels(left, readRuleSet(render(graph, 'ipvs')));
        const got = report.changes.map(({ kind, frontend, before, after }) => ({ kind, frontend, before, after }));
        expect(new Set(got.map((x) => JSON.stringify(x)))).toEqual(new Set(c.expected.map((x) => JSON.stringify(x))));
        expect(got).toHaveLength(c.expected.length);
      });
    }
  }

  const base = readFileSync(join(FIXTURES, 'nodeport', 'input.yaml'), 'utf8');
  const edit = (change: (objects: any[]) => void) => {
    const objects = loadAll(base) as any[];
    change(objects);
    return objects.map((o) => dump(o)).join('---\n');
  };
  const cases: { name: string; text: string; expected: { kind: string; frontend: string; before: string | null; after: string | null }[] }[] = [
    {
      name: 'one endpoint removed',
      text: edit((o) => o[1].endpoints.splice(2, 1)),
      expected: [
        { kind: 'endpoint-removed', frontend: 'IPv4 tcp 10.96.0.10:80', before: '10.244.2.2:8080', after: null },
        { kind: 'share-changed', frontend: 'IPv4 tcp 10.96.0.10:80', before: '10.244.1.2:8080 33.3%', after: '10.244.1.2:8080 50.0%' },
        { kind: 'share-changed', frontend: 'IPv4 tcp 10.96.0.10:80', before: '10.244.1.3:8080 33.3%', after: '10.244.1.3:8080 50.0%' },
        { kind: 'endpoint-removed', frontend: 'IPv4 tcp nodeport 30080', before: '10.244.2.2:8080', after: null },
        { kind: 'share-changed', frontend: 'IPv4 tcp nodeport 30080', before: '10.244.1.2:8080 33.3%', after: '10.244.1.2:8080 50.0%' },
        { kind: 'share-changed', frontend: 'IPv4 tcp nodeport 30080', before: '10.244.1.3:8080 33.3%', after: '10.244.1.3:8080 50.0%' },
      ],
    },
    {
      name: 'the service port changed',
      text: edit((o) => (o[0].spec.ports[0].port = 81)),
      expected: [
        { kind: 'frontend-removed', frontend: 'IPv4 tcp 10.96.0.10:80', before: '3 endpoint(s)', after: null },
        { kind: 'frontend-added', frontend: 'IPv4 tcp 10.96.0.10:81', before: null, after: '3 endpoint(s)' },
      ],
    },
    {
      name: 'affinity on',
      text: edit((o) => (o[0].spec.sessionAffinity = 'ClientIP')),
      expected: [
        { kind: 'affinity-changed', frontend: 'IPv4 tcp 10.96.0.10:80', before: 'none', after: 'ClientIP 10800s' },
        { kind: 'affinity-changed', frontend: 'IPv4 tcp nodeport 30080', before: 'none', after: 'ClientIP 10800s' },
      ],
    },
    {
      name: 'externalTrafficPolicy Local',
      text: edit((o) => (o[0].spec.externalTrafficPolicy = 'Local')),
      expected: [
        { kind: 'endpoint-removed', frontend: 'IPv4 tcp nodeport 30080', before: '10.244.2.2:8080', after: null },
        { kind: 'share-changed', frontend: 'IPv4 tcp nodeport 30080', before: '10.244.1.2:8080 33.3%', after: '10.244.1.2:8080 50.0%' },
        { kind: 'share-changed', frontend: 'IPv4 tcp nodeport 30080', before: '10.244.1.3:8080 33.3%', after: '10.244.1.3:8080 50.0%' },
        { kind: 'masquerade-changed', frontend: 'IPv4 tcp nodeport 30080', before: 'all', after: 'none' },
        { kind: 'short-circuit-changed', frontend: 'IPv4 tcp nodeport 30080', before: 'none', after: '10.244.1.2:8080, 10.244.1.3:8080, 10.244.2.2:8080' },
      ],
    },
  ];
  for (const mode of ['iptables', 'nftables'] as Mode[]) {
    for (const c of cases) {
      it(`${mode}: ${c.name} is reported exactly`, () => {
        const report = diffModels(model(base, mode), model(c.text, mode));
        const got = report.changes.map(({ kind, frontend, before, after }) => ({ kind, frontend, before, after }));
        expect(got).toEqual(c.expected);
        expect(new Set(report.changes.map((ch) => ch.group))).toEqual(new Set(['default/web:http']));
        expect(formatText(report, (_s, t) => t)).toContain('default/web:http');
      });
    }
  }
});
