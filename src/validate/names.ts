/**
 * Name formats as the Kubernetes API server validates them
 * (k8s.io/apimachinery/pkg/util/validation). Because every user string that
 * reaches a rule passes one of these, none can carry a quote, a space or a
 * newline into iptables, nft or ipvsadm text.
 */

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS1035_LABEL = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const IANA_SVC_NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;
const QUALIFIED_NAME = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;

/** Returns what is wrong with the name, or null when it is valid. */
export type NameCheck = (value: string) => string | null;

export const dns1123Label: NameCheck = (v) =>
  v.length > 63 ? 'must be at most 63 characters' : DNS1123_LABEL.test(v) ? null : 'must be a DNS-1123 label: lower-case letters, digits and "-", starting and ending with a letter or digit';

export const dns1035Label: NameCheck = (v) =>
  v.length > 63 ? 'must be at most 63 characters' : DNS1035_LABEL.test(v) ? null : 'must be a DNS-1035 label: lower-case letters, digits and "-", starting with a letter and ending with a letter or digit';

export const dns1123Subdomain: NameCheck = (v) =>
  v.length > 253 ? 'must be at most 253 characters' : DNS1123_SUBDOMAIN.test(v) ? null : 'must be a DNS-1123 subdomain: lower-case letters, digits, "-" and ".", each part starting and ending with a letter or digit';

/** Port names (IANA_SVC_NAME): at most 15 characters, at least one letter, no "--". */
export const ianaSvcName: NameCheck = (v) => {
  if (v.length > 15) return 'must be at most 15 characters';
  if (!IANA_SVC_NAME.test(v)) return 'must contain only lower-case letters, digits and "-", starting and ending with a letter or digit';
  if (v.includes('--')) return 'must not contain "--"';
  if (!/[a-z]/.test(v)) return 'must contain at least one letter';
  return null;
};

export const labelValue: NameCheck = (v) =>
  v.length > 63 ? 'must be at most 63 characters' : LABEL_VALUE.test(v) ? null : 'must be empty or letters, digits, "-", "_" and ".", starting and ending with a letter or digit';

/** Label and annotation keys: an optional DNS subdomain prefix and a name. */
export const qualifiedName: NameCheck = (v) => {
  const slash = v.lastIndexOf('/');
  const name = slash < 0 ? v : v.slice(slash + 1);
  if (slash >= 0) {
    const prefixProblem = dns1123Subdomain(v.slice(0, slash));
    if (prefixProblem) return `prefix ${prefixProblem}`;
  }
  if (name.length === 0 || name.length > 63) return 'name part must be 1 to 63 characters';
  return QUALIFIED_NAME.test(name) ? null : 'must be letters, digits, "-", "_" and ".", starting and ending with a letter or digit, with an optional DNS subdomain prefix and "/"';
};
