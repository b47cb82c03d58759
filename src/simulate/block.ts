import ipaddr from 'ipaddr.js';
import type { IPFamily } from '../graph/types.js';
import { parseCIDR, parseIP } from '../net/ip.js';

/**
 * A CIDR as numbers, for handing out addresses inside it: the network address
 * as a bigint (IPv6 needs 128 bits) and how many addresses it spans.
 */
export interface Block {
  text: string;
  family: IPFamily;
  network: bigint;
  bits: number;
  size: bigint;
}

export function blockOf(text: string): Block | null {
  const cidr = parseCIDR(text);
  if (!cidr || !text.includes('/')) return null;
  const [network, bits] = cidr.range;
  const width = cidr.family === 4 ? 32 : 128;
  return { text: cidr.text, family: cidr.family, network: addressValue(network), bits, size: 1n << BigInt(width - bits) };
}

export function addressValue(ip: ipaddr.IPv4 | ipaddr.IPv6): bigint {
  let value = 0n;
  for (const byte of ip.toByteArray()) value = (value << 8n) | BigInt(byte);
  return value;
}

/** The address `value` of a family as Kubernetes prints it (IPv6 compressed, lower case). */
export function addressText(value: bigint, family: IPFamily): string {
  const bytes: number[] = [];
  for (let i = 0, v = value; i < (family === 4 ? 4 : 16); i++, v >>= 8n) bytes.unshift(Number(v & 0xffn));
  return family === 4 ? bytes.join('.') : ipaddr.fromByteArray(bytes).toString();
}

/** The offset of `ip` inside `block`, or null when it lies outside. */
export function offsetIn(block: Block, ip: string): bigint | null {
  const parsed = parseIP(ip);
  if (!parsed || (parsed.kind() === 'ipv4' ? 4 : 6) !== block.family) return null;
  const offset = addressValue(parsed) - block.network;
  return offset >= 0n && offset < block.size ? offset : null;
}

/** The `index`th block of prefix length `bits` inside `block`. */
export function subBlock(block: Block, bits: number, index: bigint): Block {
  const width = block.family === 4 ? 32 : 128;
  const size = 1n << BigInt(width - bits);
  const network = block.network + index * size;
  return { text: `${addressText(network, block.family)}/${bits}`, family: block.family, network, bits, size };
}
