import type { Command } from 'commander';
import { NFT_LAYOUTS, type NftLayout } from '../compile.js';
import { UsageError } from './errors.js';

/** --layout, on the commands that write or read nftables rules from manifests. */
export function addLayoutOption(command: Command): Command {
  return command.option('--layout <layout>', `nftables mode: ${NFT_LAYOUTS.join(' (default) or ')} (fixed rules, sets and maps whose size, not number, grows with Services; docs/nftables-compact.md)`);
}

/**
 * The layout asked for; a usage error for an unknown one or for any mode but
 * nftables (only nftables has two layouts). `mode` undefined: not known yet
 * (then only the name is checked).
 */
export function parseLayout(flag: string | undefined, mode: string | undefined): NftLayout {
  if (flag === undefined) return 'kube-proxy';
  if (!NFT_LAYOUTS.includes(flag as NftLayout)) throw new UsageError(`--layout ${JSON.stringify(flag)}: use ${NFT_LAYOUTS.join(' or ')}`);
  if (mode !== undefined && mode !== 'nftables') throw new UsageError(`--layout is for --mode nftables only (got --mode ${mode})`);
  return flag as NftLayout;
}
