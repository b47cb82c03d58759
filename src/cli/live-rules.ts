import type { Mode } from '../compile.js';
import { joinIpvsParts } from '../read/ipvs.js';
import { UserError } from './errors.js';

/**
 * What this host runs now, as the tools print it: the edge where kpc diff
 * reads the kernel. Only kpc's and kube-proxy's objects are interpreted; the
 * readers list everything else as foreign.
 */
export async function readLiveRules(mode: Mode): Promise<string[]> {
  if (process.platform !== 'linux') throw new UserError('--live reads the kernel\'s rules and works on Linux only');
  switch (mode) {
    case 'iptables':
      return [await run('iptables-save', []), await run('ip6tables-save', [], true)];
    case 'nftables':
      // One listing per family, joined on a newline: execa drops each one's last.
      return [[await run('nft', ['list', 'table', 'ip', 'kube-proxy'], true), await run('nft', ['list', 'table', 'ip6', 'kube-proxy'], true)].join('\n')];
    case 'ipvs':
      // IPVS mode keeps masquerade, source ranges and what each address is in its ipsets and iptables rules.
      return [
        joinIpvsParts({
          ipvsadm: await run('ipvsadm', ['-S', '-n']),
          ipset: await run('ipset', ['save'], true),
          iptables: await run('iptables-save', [], true),
          ip6tables: await run('ip6tables-save', [], true),
        }),
      ];
  }
}

async function run(command: string, args: string[], optional = false): Promise<string> {
  const { execa } = await import('execa');
  const result = await execa(command, args, { reject: false });
  if (result.exitCode === 0) return String(result.stdout);
  if (optional) return '';
  const why = result.failed && (result as { code?: string }).code === 'ENOENT' ? 'is not installed' : `failed: ${String(result.stderr).trim()}`;
  throw new UserError(`${command} ${why}${process.getuid?.() === 0 ? '' : ' (reading the live rules needs root)'}`);
}
