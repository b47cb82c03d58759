import { validateSources } from '../../src/compile.js';
import { formatDiagnostic, type Diagnostic } from '../../src/diagnostics/diagnostic.js';

/**
 * Small valid manifests to start from. Tests that assert line numbers write
 * their YAML out in full instead, so the lines can be read off the test.
 */

export const SERVICE = `apiVersion: v1
kind: Service
metadata:
  name: web
  namespace: shop
spec:
  clusterIP: 10.96.0.10
  selector: { app: web }
  ports:
    - name: http
      port: 80
      targetPort: 8080
`;

export const SLICE = `apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: web-1
  namespace: shop
  labels: { kubernetes.io/service-name: web }
addressType: IPv4
ports: [{ name: http, port: 8080, protocol: TCP }]
endpoints:
  - addresses: [10.244.1.2]
    nodeName: node-a
    conditions: { ready: true }
`;

export const NODE_FLAGS = ['--node-name', 'node-a', '--node-ip', '192.0.2.10', '--cluster-cidr', '10.244.0.0/16'];

/** Joins documents into one multi-document YAML text. */
export function yamlDocs(...docs: string[]): string {
  return docs.map((d) => d.replace(/\n*$/, '\n')).join('---\n');
}

/** The 1-based line of the first line containing `needle`, read off the text itself. */
export function lineOf(text: string, needle: string): number {
  const index = text.split('\n').findIndex((line) => line.includes(needle));
  if (index < 0) throw new Error(`test bug: ${JSON.stringify(needle)} is not in the text`);
  return index + 1;
}

/** Validates texts as the CLI would and returns the problems, formatted as the CLI prints them. */
export function problems(files: Record<string, string>): { errors: Diagnostic[]; warnings: Diagnostic[]; lines: string[]; checked: number } {
  const { diagnostics, checked } = validateSources(Object.entries(files).map(([name, text]) => ({ name, text })));
  return {
    errors: diagnostics.filter((d) => d.severity === 'error'),
    warnings: diagnostics.filter((d) => d.severity === 'warning'),
    lines: diagnostics.map(formatDiagnostic),
    checked,
  };
}
