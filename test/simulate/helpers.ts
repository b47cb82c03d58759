import { InputError, formatDiagnostic } from '../../src/diagnostics/diagnostic.js';
import { simulateSources, type CompileOptions } from '../../src/compile.js';
import type { Node, Pod, Service } from '../../src/model/k8s.js';

export interface Simulated {
  services: Map<string, Service>;
  pods: Map<string, Pod>;
  nodes: Map<string, Node>;
  notes: string[];
}

/** The simulation of one YAML text, objects by namespace/name (nodes by name). */
export function simulateText(text: string, options: CompileOptions = {}): Simulated {
  const { objects, notes } = simulateSources([{ name: 'in.yaml', text }], { simulate: {}, ...options });
  const byKey = <T extends { metadata: { namespace?: string; name: string } }>(kind: string) =>
    new Map((objects as (T & { kind: string })[]).filter((o) => o.kind === kind).map((o) => [o.metadata.namespace ? `${o.metadata.namespace}/${o.metadata.name}` : o.metadata.name, o as T]));
  return { services: byKey<Service>('Service'), pods: byKey<Pod>('Pod'), nodes: byKey<Node>('Node'), notes };
}

/** The formatted errors of a simulation that must fail. */
export function simulationErrors(text: string, options: CompileOptions = {}): string[] {
  try {
    simulateSources([{ name: 'in.yaml', text }], { simulate: {}, ...options });
  } catch (error) {
    if (error instanceof InputError) return error.diagnostics.filter((d) => d.severity === 'error').map(formatDiagnostic);
    throw error;
  }
  throw new Error('the simulation succeeded');
}

export function service(name: string, spec: Record<string, unknown> = {}, namespace = 'default'): string {
  return `---\n${JSON.stringify({ apiVersion: 'v1', kind: 'Service', metadata: { name, namespace }, spec: { ports: [{ port: 80 }], ...spec } })}\n`;
}

export function deployment(name: string, replicas: number, labels: Record<string, string>, extra: Record<string, unknown> = {}, kind = 'Deployment'): string {
  const template = { metadata: { labels }, spec: { containers: [{ name: 'c', ports: [{ name: 'http', containerPort: 8080 }] }], ...extra } };
  const apiVersion = kind === 'ReplicationController' ? 'v1' : 'apps/v1';
  return `---\n${JSON.stringify({ apiVersion, kind, metadata: { name, namespace: 'default' }, spec: { replicas, template } })}\n`;
}
