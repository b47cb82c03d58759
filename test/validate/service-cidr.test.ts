import { describe, expect, it } from 'vitest';
import { compileGraph } from '../../src/compile.js';
import { problems } from '../helpers/manifests.js';

const cidr = (name: string, cidrs: string) => `apiVersion: networking.k8s.io/v1\nkind: ServiceCIDR\nmetadata:\n  name: ${name}\nspec:\n  cidrs: ${cidrs}\n`;

describe('ServiceCIDR objects', () => {
  it('are read as the API server checks them: one CIDR per family, network addresses only', () => {
    expect(problems({ 'c.yaml': cidr('kubernetes', '[10.96.0.0/12, fd00:10:96::/108]') }).lines).toEqual([]);
    expect(problems({ 'c.yaml': cidr('bad', '[10.96.0.1/12, 10.200.0.0/16, "x"]') }).lines).toEqual([
      'c.yaml:6: ServiceCIDR bad: spec.cidrs: has 3 entries; give at most two, one per IP family',
      'c.yaml:6: ServiceCIDR bad: spec.cidrs[0]: "10.96.0.1/12" is not in canonical form; write 10.96.0.0/12',
      'c.yaml:6: ServiceCIDR bad: spec.cidrs[1]: is a second IPv4 CIDR; give at most one per IP family',
      'c.yaml:6: ServiceCIDR bad: spec.cidrs[2]: "x" is not a CIDR such as 10.96.0.0/12',
    ]);
    expect(problems({ 'c.yaml': 'apiVersion: networking.k8s.io/v1\nkind: ServiceCIDR\nmetadata:\n  name: empty\nspec: {}\n' }).lines).toEqual([
      'c.yaml:5: ServiceCIDR empty: spec.cidrs: is required: give one CIDR per IP family, such as 10.96.0.0/12',
    ]);
  });

  it('give the node its service ranges, unless --service-cidr says otherwise', () => {
    const sources = [{ name: 'c.yaml', text: `${cidr('kubernetes', '[10.96.0.0/12]')}---\n${cidr('more', '[10.200.0.0/16, fd00::/108]')}` }];
    expect(compileGraph(sources, {}).graph.node.serviceCIDRs).toEqual({ 4: ['10.200.0.0/16', '10.96.0.0/12'], 6: ['fd00::/108'] });
    expect(compileGraph(sources, { serviceCIDRs: ['10.0.0.0/16'] }).graph.node.serviceCIDRs).toEqual({ 4: ['10.0.0.0/16'], 6: [] });
    expect(compileGraph([], {}).graph.node.serviceCIDRs).toEqual({ 4: [], 6: [] });
  });
});
