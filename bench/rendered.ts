// Rendered manifests of the kind `helm template` prints for a monitoring
// stack, for `npm run bench`: mostly CustomResourceDefinitions (large, deep
// OpenAPI schemas) with ConfigMaps, Deployments, DaemonSets and Services.
// Reports kpc validate and kpc generate --simulate against js-yaml's bare
// parse of the same text in a fresh process (the target: within 1.5x).
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadAll } from 'js-yaml';

export interface RenderedTime {
  megabytes: number;
  documents: number;
  parseMs: number;
  validateMs: number;
  generateMs: number;
  validateRatio: number;
  generateRatio: number;
}

/** A CRD whose schema nests `depth` levels of `width` properties, as operators' CRDs do. */
function crd(i: number, width: number, depth: number): string {
  const lines = [
    'apiVersion: apiextensions.k8s.io/v1',
    'kind: CustomResourceDefinition',
    'metadata:',
    `  name: widgets${i}.monitoring.example.com`,
    '  annotations: { controller-gen.kubebuilder.io/version: v0.16.1 }',
    'spec:',
    '  group: monitoring.example.com',
    `  names: { kind: Widget${i}, listKind: Widget${i}List, plural: widgets${i}, singular: widget${i} }`,
    '  scope: Namespaced',
    '  versions:',
    '  - name: v1',
    '    served: true',
    '    storage: true',
    '    schema:',
    '      openAPIV3Schema:',
  ];
  const walk = (indent: string, level: number) => {
    lines.push(`${indent}type: object`, `${indent}description: Settings of level ${level}; see the operator's documentation for every field.`, `${indent}properties:`);
    for (let p = 0; p < width; p++) {
      lines.push(`${indent}  field${p}:`);
      if (level < depth && p === 0) walk(`${indent}    `, level + 1);
      else lines.push(`${indent}    type: ${p % 3 === 0 ? 'string' : p % 3 === 1 ? 'integer' : 'boolean'}`, `${indent}    description: "Field ${p}: what it sets, its default and its limits."`);
    }
  };
  walk('        ', 1);
  return lines.join('\n');
}

function workload(i: number): string {
  return `apiVersion: v1
kind: ConfigMap
metadata: { name: app${i}-config, namespace: monitoring, labels: { app.kubernetes.io/name: app${i} } }
data:
  config.yaml: |
    scrape_interval: 30s
    targets: [a, b, c]
---
apiVersion: apps/v1
kind: Deployment
metadata: { name: app${i}, namespace: monitoring, labels: { app.kubernetes.io/name: app${i} } }
spec:
  replicas: 2
  selector: { matchLabels: { app.kubernetes.io/name: app${i} } }
  template:
    metadata: { labels: { app.kubernetes.io/name: app${i} } }
    spec:
      containers:
        - name: app
          image: quay.io/example/app:v1.${i}
          ports: [{ name: http, containerPort: 8080 }, { name: metrics, containerPort: 9090 }]
---
apiVersion: v1
kind: Service
metadata: { name: app${i}, namespace: monitoring, labels: { app.kubernetes.io/name: app${i} } }
spec:
  selector: { app.kubernetes.io/name: app${i} }
  ports: [{ name: http, port: 80, targetPort: http }, { name: metrics, port: 9090, targetPort: metrics }]`;
}

export function renderedManifests(targetBytes: number): string {
  const docs: string[] = [];
  let bytes = 0;
  for (let i = 0; bytes < targetBytes; i++) {
    const batch = [crd(i, 12, 6), workload(i)];
    for (const doc of batch) bytes += doc.length + 4;
    docs.push(...batch);
  }
  return `${docs.join('\n---\n')}\n`;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

function wall(run: () => void, repeat: number): number {
  const times: number[] = [];
  for (let r = 0; r < repeat; r++) {
    const t0 = performance.now();
    run();
    times.push(performance.now() - t0);
  }
  return median(times);
}

export function renderedTimes(root: string, dir: string, megabytes: number, repeat: number, log: (text: string) => void): RenderedTime {
  const text = renderedManifests(megabytes * 1048576);
  const file = join(dir, 'rendered.yaml');
  writeFileSync(file, text);
  const kpc = join(root, 'bin', 'kpc');
  const documents = loadAll(text).length;
  // In a fresh process, as kpc runs: node's start and the import count on both sides.
  const parse = `import { readFileSync } from 'node:fs'; import { loadAll } from 'js-yaml'; loadAll(readFileSync(${JSON.stringify(file)}, 'utf8'));`;
  const parseMs = wall(() => spawnSync(process.execPath, ['--input-type=module', '-e', parse], { cwd: root, stdio: 'ignore' }), repeat);
  const validateMs = wall(() => spawnSync(process.execPath, [kpc, 'validate', '-f', file], { stdio: 'ignore' }), repeat);
  const flags = ['--simulate', '--mode', 'nftables', '--node-name', 'node-a', '--node-ip', '192.0.2.10', '--cluster-cidr', '10.244.0.0/16', '-o', join(dir, 'rendered.nft')];
  const generateMs = wall(() => spawnSync(process.execPath, [kpc, 'generate', '-f', file, ...flags], { stdio: 'ignore' }), repeat);
  const result = {
    megabytes: Math.round((text.length / 1048576) * 10) / 10,
    documents,
    parseMs: Math.round(parseMs),
    validateMs: Math.round(validateMs),
    generateMs: Math.round(generateMs),
    validateRatio: Math.round((validateMs / parseMs) * 100) / 100,
    generateRatio: Math.round((generateMs / parseMs) * 100) / 100,
  };
  log(`rendered manifests ${result.megabytes} MB, ${documents} documents: js-yaml ${result.parseMs} ms, kpc validate ${result.validateMs} ms (${result.validateRatio}x), kpc generate --simulate ${result.generateMs} ms (${result.generateRatio}x)`);
  return result;
}
