/**
 * What a MachineClass adds to its machines' Node registration (`nodeRegistration`): labels the kubelet registers
 * with (kubeadm's nodeRegistration.kubeletExtraArgs node-labels) and taints (nodeRegistration.taints), e.g. a GPU
 * pool's `nvidia.com/gpu=true:NoSchedule`. In Cluster API they are bootstrap configuration
 * (KubeadmConfigTemplate spec.joinConfiguration.nodeRegistration); here the class carries them, merged with the
 * machine template's taints (the template's win for one key and effect).
 */
import * as z from 'zod';
import { labelMap } from './common.js';
import { nodeTaints } from './taint.js';
import { lazySchema } from './lazy-schema.js';

/** Label namespaces a kubelet may set on its own Node although they are Kubernetes' (and their subdomains). */
const KUBELET_LABEL_NAMESPACES = ['kubelet.kubernetes.io', 'node.kubernetes.io'];

const under = (ns: string, domain: string) => ns === domain || ns.endsWith(`.${domain}`);

/**
 * Why a kubelet may not register with this label, or undefined: the NodeRestriction admission plugin and the
 * kubelet's --node-labels refuse the kubernetes.io and k8s.io namespaces except kubelet.kubernetes.io and
 * node.kubernetes.io (kubernetes staging/src/k8s.io/kubelet/pkg/apis/well_known_labels.go, IsKubeletLabel; the
 * well-known labels it allows are the kubelet's own to set: hostname, zone, instance type, os, arch).
 */
export function kubeletLabelError(key: string): string | undefined {
  const slash = key.indexOf('/');
  if (slash < 0) return undefined;
  const ns = key.slice(0, slash);
  if (!under(ns, 'kubernetes.io') && !under(ns, 'k8s.io')) return undefined;
  if (KUBELET_LABEL_NAMESPACES.some((allowed) => under(ns, allowed))) return undefined;
  return 'a kubelet may not register with labels in the kubernetes.io or k8s.io namespaces (except kubelet.kubernetes.io and node.kubernetes.io)';
}

export const classNodeRegistration = lazySchema(() =>
  z
    .strictObject({
      labels: labelMap
        .check((ctx) => {
          for (const k of Object.keys(ctx.value)) {
            const e = kubeletLabelError(k);
            if (e) ctx.issues.push({ code: 'custom', input: k, path: [k], message: e, params: { reason: 'FieldValueForbidden' } });
          }
        })
        .default(() => ({})),
      taints: nodeTaints.default(() => []),
    })
    .describe("Labels and taints the machines' Nodes register with at join (kubeadm nodeRegistration), e.g. a GPU pool's taint."),
);
export type ClassNodeRegistration = z.infer<typeof classNodeRegistration>;
