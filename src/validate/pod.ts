import type { Pod } from '../model/k8s.js';
import { checkIP, checkMetadata, checkName, nodeName } from './common.js';
import { dns1123Label, dns1123Subdomain, ianaSvcName } from './names.js';
import type { ObjectReporter } from './reporter.js';

export function validatePod(pod: Pod, r: ObjectReporter): void {
  checkMetadata(pod.metadata, r, dns1123Subdomain);
  if (pod.spec?.nodeName !== undefined) checkName(pod.spec.nodeName, ['spec', 'nodeName'], r, nodeName, 'node name');
  if (pod.spec?.hostname !== undefined) checkName(pod.spec.hostname, ['spec', 'hostname'], r, dns1123Label, 'hostname');
  if (pod.spec?.subdomain !== undefined) checkName(pod.spec.subdomain, ['spec', 'subdomain'], r, dns1123Label, 'subdomain');
  (pod.spec?.containers ?? []).forEach((container, i) => {
    (container.ports ?? []).forEach((port, j) => {
      if (port.name) checkName(port.name, ['spec', 'containers', i, 'ports', j, 'name'], r, ianaSvcName, 'port name');
    });
  });
  if (pod.status?.podIP) checkIP(pod.status.podIP, ['status', 'podIP'], r);
  (pod.status?.podIPs ?? []).forEach((entry, i) => checkIP(entry.ip, ['status', 'podIPs', i, 'ip'], r));
}
