import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import type { IPFamily } from '../graph/types.js';
import type { ApplyMode } from './index.js';

/** Why this process cannot apply rules to the host, or null when it can. */
export function hostProblem(platform: string = process.platform, uid: number | undefined = process.getuid?.()): string | null {
  if (platform !== 'linux') return `kpc apply changes Linux kernel rules and runs only on Linux (this is ${platform}); use kpc generate to write the rules to a file instead`;
  if (uid !== 0) return 'kpc apply must run as root (it changes the kernel\'s packet filter rules); run it with sudo, or use kpc generate to write the rules to a file';
  return null;
}

/** The programs a mode runs, by name. */
export function toolsFor(mode: ApplyMode, families: IPFamily[]): string[] {
  const tools = ['unshare', 'nsenter'];
  const iptables = families.flatMap((f) => (f === 4 ? ['iptables-save', 'iptables-restore'] : ['ip6tables-save', 'ip6tables-restore']));
  if (mode === 'iptables') tools.push(...iptables);
  if (mode === 'nftables') tools.push('nft');
  if (mode === 'ipvs') tools.push('ipvsadm', 'ipset', 'ip', ...iptables);
  return tools;
}

export function missingTools(tools: string[], path: string = process.env.PATH ?? ''): string[] {
  const dirs = [...path.split(delimiter).filter(Boolean), '/usr/sbin', '/sbin'];
  return tools.filter(
    (tool) =>
      !dirs.some((dir) => {
        try {
          accessSync(join(dir, tool), constants.X_OK);
          return true;
        } catch {
          return false;
        }
      }),
  );
}
