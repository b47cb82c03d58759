import type { ObjectMeta } from '../model/k8s.js';
import { isIP, parseCIDR } from '../net/ip.js';
import { legacyIPv4, legacyIPv4CIDR } from '../net/legacy-ip.js';
import { dns1123Label, dns1123Subdomain, labelValue, qualifiedName, type NameCheck } from './names.js';
import { remembered } from './remembered.js';
import { quoted, type FieldPath, type ObjectReporter } from './reporter.js';

/** Label and annotation keys repeat across objects; their values mostly do not. */
export const labelKey = remembered(qualifiedName);
/** Every endpoint and pod names one of a cluster's few nodes and zones. */
export const nodeName = remembered(dns1123Subdomain);
export const zoneName = remembered(labelValue);
/** Thousands of objects share a cluster's few hundred namespaces. */
export const namespaceName = remembered(dns1123Label);

/** Checks metadata as the API server would; `nameCheck` differs by kind. */
export function checkMetadata(meta: ObjectMeta, r: ObjectReporter, nameCheck: NameCheck, namespaced = true): void {
  checkName(meta.name, ['metadata', 'name'], r, nameCheck);
  if (namespaced && meta.namespace !== undefined) checkName(meta.namespace, ['metadata', 'namespace'], r, namespaceName);
  const labels = meta.labels ?? {};
  for (const key of Object.keys(labels)) {
    const path = ['metadata', 'labels', key];
    checkName(key, path, r, labelKey, 'label key');
    checkName(labels[key]!, path, r, labelValue, 'label value');
  }
  for (const key of Object.keys(meta.annotations ?? {})) {
    checkName(key, ['metadata', 'annotations', key], r, labelKey, 'annotation key');
  }
}

export function checkName(value: string, path: FieldPath, r: ObjectReporter, check: NameCheck, what = 'value'): boolean {
  const problem = check(value);
  if (problem) r.error(path, `${what} ${quoted(value)} ${problem}`);
  return problem === null;
}

export function checkIP(value: string, path: FieldPath, r: ObjectReporter): boolean {
  if (isIP(value)) return true;
  r.error(path, `${quoted(String(value))} is not a valid IP address`);
  return false;
}

/**
 * An address in a field kube-proxy reads leniently (a Service's IPs, an
 * EndpointSlice's addresses). A legacy IPv4 text with leading zeros is
 * rewritten in place to what kube-proxy makes of it, with a warning, so
 * everything after validation sees the canonical address.
 */
export function checkLegacyIP(holder: unknown[] | Record<string, unknown>, key: number | string, path: FieldPath, r: ObjectReporter): boolean {
  const value = (holder as Record<string | number, unknown>)[key] as string;
  if (isIP(value)) return true;
  const legacy = legacyIPv4(value);
  if (legacy === null) return checkIP(value, path, r);
  (holder as Record<string | number, unknown>)[key] = legacy;
  r.warning(path, `${quoted(value)} has leading zeros, which API servers now refuse; read as ${legacy}, as kube-proxy reads it (write ${legacy})`);
  return true;
}

/** checkLegacyIP for a CIDR ("203.0.113.000/025"), read as kube-proxy's ParseCIDRSloppy reads it. */
export function checkLegacyCIDR(holder: unknown[], key: number, path: FieldPath, r: ObjectReporter): boolean {
  const value = String(holder[key]).trim();
  if (value.includes('/') && parseCIDR(value)) return true;
  const legacy = legacyIPv4CIDR(value);
  const cidr = legacy && parseCIDR(`${legacy.address}/${legacy.bits}`);
  if (!cidr) return checkCIDR(value, path, r);
  holder[key] = cidr.text;
  r.warning(path, `${quoted(value)} has leading zeros, which API servers now refuse; read as ${cidr.text}, as kube-proxy reads it (write ${cidr.text})`);
  return true;
}

export function checkCIDR(value: string, path: FieldPath, r: ObjectReporter): boolean {
  if (value.includes('/') && parseCIDR(value)) return true;
  r.error(path, `${quoted(String(value))} is not a valid CIDR (such as 10.0.0.0/8 or fd00::/64)`);
  return false;
}

/** Reports repeated values, naming the first place each was used. */
export function checkUnique<T>(items: T[], key: (item: T) => string | null, path: (i: number) => FieldPath, r: ObjectReporter, what: string): void {
  // Most lists checked here (a Service's or a slice's ports) hold one item.
  if (items.length < 2) return;
  const first = new Map<string, number>();
  items.forEach((item, i) => {
    const k = key(item);
    if (k === null) return;
    const seen = first.get(k);
    if (seen === undefined) first.set(k, i);
    else r.error(path(i), `duplicate ${what} ${k} (also used at index ${seen})`);
  });
}
