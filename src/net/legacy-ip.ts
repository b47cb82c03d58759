/**
 * Addresses as kube-proxy reads them with k8s.io/utils/net's ParseIPSloppy
 * and ParseCIDRSloppy: Go's parser before 1.17, which read every part of an
 * IPv4 address as decimal whatever its leading zeros ("172.30.0.041" is
 * 172.30.0.41, not octal 33). API servers refuse such text now, but objects
 * stored before that still hold it, and kube-proxy still programs them.
 */

/** Go's dtoi gave up at 0xFFFFFF; any value over 255 is refused first, so this only bounds the text. */
const MAX_PART_LENGTH = 16;

/** The canonical dotted quad of a legacy IPv4 text, or null when it is not one. */
export function legacyIPv4(text: string): string | null {
  if (typeof text !== 'string' || text.length > 4 * MAX_PART_LENGTH + 3) return null;
  const parts = text.split('.');
  if (parts.length !== 4) return null;
  const octets: number[] = [];
  for (const part of parts) {
    const value = decimal(part, 255);
    if (value === null) return null;
    octets.push(value);
  }
  return octets.join('.');
}

/** The network of a legacy IPv4 CIDR ("203.0.113.000/025" is 203.0.113.0/25), or null when it is not one. */
export function legacyIPv4CIDR(text: string): { address: string; bits: number } | null {
  if (typeof text !== 'string') return null;
  const slash = text.indexOf('/');
  if (slash < 0) return null;
  const address = legacyIPv4(text.slice(0, slash));
  const bits = decimal(text.slice(slash + 1), 32);
  return address === null || bits === null ? null : { address, bits };
}

function decimal(part: string, max: number): number | null {
  if (part.length === 0 || part.length > MAX_PART_LENGTH || !/^[0-9]+$/.test(part)) return null;
  const value = Number(part);
  return value <= max ? value : null;
}
