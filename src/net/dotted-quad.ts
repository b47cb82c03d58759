/**
 * IPv4 text as Kubernetes validation accepts it: four decimal parts 0-255
 * separated by dots, without leading zeros ("01.2.3.4" is refused, as current
 * Kubernetes refuses it: some parsers read it as octal), nothing before or
 * after. Read by hand rather than with ipaddr.js because nearly
 * every address in a cluster is one of these, and ipaddr.js's general parser
 * (octal, hex and short forms, which kpc must refuse anyway) costs many times
 * more per address.
 */

/** Longest dotted quad: "255.255.255.255". */
const MAX_LENGTH = 15;
const DOT = 0x2e;
const ZERO = 0x30;

/** The address as an unsigned 32-bit number, or -1 when `text` is not a dotted quad. */
export function dottedQuadValue(text: string): number {
  const length = text.length;
  if (length < 7 || length > MAX_LENGTH) return -1;
  let address = 0;
  let dots = 0;
  let part = 0;
  let digits = 0;
  for (let i = 0; i < length; i++) {
    const code = text.charCodeAt(i);
    if (code === DOT) {
      if (digits === 0 || dots === 3) return -1;
      address = address * 256 + part;
      dots++;
      part = 0;
      digits = 0;
      continue;
    }
    const digit = code - ZERO;
    if (digit < 0 || digit > 9) return -1;
    // A second digit after a leading 0 is a leading zero.
    if (digits > 0 && part === 0) return -1;
    part = part * 10 + digit;
    if (part > 255) return -1;
    digits++;
  }
  if (dots !== 3 || digits === 0) return -1;
  return address * 256 + part;
}

export function isDottedQuad(text: string): boolean {
  return dottedQuadValue(text) >= 0;
}

/** The four octets of an address from dottedQuadValue. */
export function octetsOf(address: number): [number, number, number, number] {
  return [Math.floor(address / 0x1000000) & 0xff, (address >>> 16) & 0xff, (address >>> 8) & 0xff, address & 0xff];
}

/** The first address of the /bits network holding `address`. */
export function networkOf(address: number, bits: number): number {
  if (bits === 0) return 0;
  return (address & (-1 << (32 - bits))) >>> 0;
}
