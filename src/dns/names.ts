import ipaddr from 'ipaddr.js';

/** `name.namespace.svc.cluster.local.` */
export function serviceName(name: string, namespace: string, domain: string): string {
  return `${name}.${namespace}.svc.${domain}.`;
}

/**
 * CoreDNS's endpointHostname: the endpoint's own hostname, else its address
 * with dashes (10-244-1-2; fd00--2, with a trailing dash made -0).
 */
export function endpointLabel(ip: string, hostname: string | null): string {
  if (hostname) return hostname;
  if (ip.includes('.')) return ip.replaceAll('.', '-');
  const dashed = ip.replaceAll(':', '-');
  return dashed.endsWith('-') ? `${dashed}0` : dashed;
}

/** The reverse-lookup name: 10.0.96.10.in-addr.arpa. or the nibbles of an IPv6 address under ip6.arpa. */
export function reverseName(ip: string): string {
  const parsed = ipaddr.parse(ip);
  if (parsed.kind() === 'ipv4') return `${parsed.toByteArray().reverse().join('.')}.in-addr.arpa.`;
  const nibbles = parsed
    .toByteArray()
    .flatMap((byte) => [byte >> 4, byte & 15])
    .map((n) => n.toString(16));
  return `${nibbles.reverse().join('.')}.ip6.arpa.`;
}

/** CoreDNS's SRV weight for one of n records of equal priority: 100/n, at least 1. */
export function srvWeight(n: number): number {
  return Math.max(1, Math.floor(100 / n));
}

/** Compares text with runs of digits as numbers (10.244.1.2 before 10.244.1.10), the same on every machine. */
export function naturalCompare(a: string, b: string): number {
  const chunks = (text: string) => text.match(/\d+|\D+/g) ?? [];
  const x = chunks(a);
  const y = chunks(b);
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    const [p, q] = [x[i]!, y[i]!];
    if (p === q) continue;
    if (/^\d/.test(p) && /^\d/.test(q) && Number(p) !== Number(q)) return Number(p) - Number(q);
    return p < q ? -1 : 1;
  }
  return x.length - y.length;
}
