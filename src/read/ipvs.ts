import { readHostPort } from './addresses.js';
import { emptyModel, newFrontend, type Family, type RuleSetModel } from './model.js';
import { splitArgs } from './tokens.js';

const PROTOCOLS: Record<string, string> = { '-t': 'tcp', '--tcp-service': 'tcp', '-u': 'udp', '--udp-service': 'udp', '--sctp-service': 'sctp' };

/**
 * Reads IPVS virtual servers (`ipvsadm -Sn` output or ipvsadm -R input, alone
 * or inside kpc's sectioned IPVS document). Real servers share new connections
 * by weight. IPVS names no Services, so frontends are keyed by address only.
 */
export function readIpvs(text: string): RuleSetModel {
  const model = emptyModel('ipvs');
  const weights = new Map<string, Map<string, number>>();
  const families = new Set<Family>();
  for (const line of ipvsadmLines(text)) {
    const args = splitArgs(line);
    const protoFlag = args.find((a) => a in PROTOCOLS);
    if (!protoFlag) continue;
    const address = readHostPort(args[args.indexOf(protoFlag) + 1] ?? '');
    const key = `${PROTOCOLS[protoFlag]} ${address}`;
    const family: Family = address.startsWith('[') ? 6 : 4;
    families.add(family);
    const full = `IPv${family} ${key}`;
    if (args[0] === '-A') {
      const frontend = newFrontend(key, 'external', null);
      frontend.masquerade = 'unknown';
      const persistence = args.indexOf('-p');
      if (persistence >= 0) frontend.affinitySeconds = Number(args[persistence + 1] ?? 300);
      model.frontends.set(full, frontend);
      weights.set(full, new Map());
    } else if (args[0] === '-a') {
      const real = readHostPort(args[args.indexOf('-r') + 1] ?? '');
      const weight = args.indexOf('-w') >= 0 ? Number(args[args.indexOf('-w') + 1]) : 1;
      weights.get(full)?.set(real, weight);
    }
  }
  for (const [full, servers] of weights) {
    const total = [...servers.values()].reduce((a, b) => a + b, 0);
    const frontend = model.frontends.get(full)!;
    for (const [real, weight] of servers) if (weight > 0) frontend.endpoints[real] = weight / total;
    if (total === 0) frontend.verdict = 'reject';
  }
  model.families = [...families].sort();
  return model;
}

function ipvsadmLines(text: string): string[] {
  const section = /### BEGIN ipvsadm[^\n]*\n([\s\S]*?)### END ipvsadm/.exec(text);
  return (section ? section[1]! : text).split('\n').map((l) => l.trim()).filter((l) => l.startsWith('-A') || l.startsWith('-a'));
}
