import type { LoadedObject } from '../load/source.js';
import type { Workload, WorkloadKind } from '../model/k8s.js';
import { checkMetadata, checkName, labelKey } from './common.js';
import { dns1123Subdomain, ianaSvcName, labelValue } from './names.js';
import type { ObjectReporter } from './reporter.js';
import { describe } from './schemas.js';
import * as generated from './shape-validators.generated.js';

/** The controllers --simulate turns into pods, with the apiVersion each is read in. */
const WORKLOAD_API: Record<WorkloadKind, string> = {
  Deployment: 'apps/v1',
  ReplicaSet: 'apps/v1',
  StatefulSet: 'apps/v1',
  DaemonSet: 'apps/v1',
  ReplicationController: 'v1',
};

/** Whether --simulate reads this object as a workload (an older apiVersion is not read). */
export function isWorkload(kind: string, value: unknown): kind is WorkloadKind {
  return Object.hasOwn(WORKLOAD_API, kind) && (value as { apiVersion?: unknown }).apiVersion === WORKLOAD_API[kind as WorkloadKind];
}

type ShapeValidator = ((value: unknown) => boolean) & { errors?: Parameters<typeof describe>[0][] | null };

/**
 * Checks what the simulation reads of a workload (its name, replicas, pod
 * template labels, ports and placement fields) and nothing else: a chart's
 * Deployment carries much kpc has no use for, and checking it would cost time
 * and report problems that are not kpc's to find.
 */
export function validateWorkload(loaded: LoadedObject, r: ObjectReporter): void {
  const validate = generated.Workload as ShapeValidator;
  if (!validate(loaded.value)) {
    for (const problem of (validate.errors ?? []).map(describe)) r.error(problem.path, problem.message);
    return;
  }
  const workload = loaded.value as Workload;
  checkMetadata(workload.metadata, r, dns1123Subdomain);
  const template = workload.spec.template;
  const labels = template.metadata?.labels ?? {};
  for (const key of Object.keys(labels)) {
    const path = ['spec', 'template', 'metadata', 'labels', key];
    checkName(key, path, r, labelKey, 'label key');
    checkName(labels[key]!, path, r, labelValue, 'label value');
  }
  (template.spec?.containers ?? []).forEach((container, i) => {
    (container.ports ?? []).forEach((port, j) => {
      if (port.name) checkName(port.name, ['spec', 'template', 'spec', 'containers', i, 'ports', j, 'name'], r, ianaSvcName, 'port name');
    });
  });
}
