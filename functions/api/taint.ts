/**
 * Node taints a machine's kubelet registers with (kubeadm's nodeRegistration.taints, `--register-with-taints`). In
 * Cluster API they are bootstrap configuration (KubeadmConfigTemplate spec.joinConfiguration.nodeRegistration.taints),
 * which a MachineDeployment's template names; here the machine template carries them. Validated as Kubernetes
 * validates a Node's taints (pkg/apis/core/validation/validation.go: validateNodeTaints): a qualified-name key, a
 * label-value value, one of three effects, each key and effect pair once.
 */
import * as z from 'zod';
import { labelValueError, qualifiedNameError } from './common.js';
import { lazySchema } from './lazy-schema.js';

export const TaintEffect = lazySchema(() => z.enum(['NoSchedule', 'PreferNoSchedule', 'NoExecute']));
export type TaintEffect = z.infer<typeof TaintEffect>;

/** Enough for any real pool (a GPU or spot pool sets one or two); kubeadm and the API take more. */
export const MAX_TAINTS = 32;

export const nodeTaint = lazySchema(() =>
  z.strictObject({
    key: z
      .string()
      .describe('The taint key, a qualified name such as nvidia.com/gpu.')
      .check((ctx) => {
        const e = qualifiedNameError(ctx.value);
        if (e) ctx.issues.push({ code: 'custom', input: ctx.value, message: e });
      }),
    value: z
      .string()
      .describe('The taint value, a label value (may be empty).')
      .check((ctx) => {
        const e = labelValueError(ctx.value);
        if (e) ctx.issues.push({ code: 'custom', input: ctx.value, message: e });
      })
      .optional(),
    effect: TaintEffect.describe('What the taint does to pods that do not tolerate it: NoSchedule, PreferNoSchedule or NoExecute.'),
  }),
);
export type NodeTaint = z.infer<typeof nodeTaint>;

export const nodeTaints = lazySchema(() =>
  z
    .array(nodeTaint)
    .max(MAX_TAINTS)
    .check((ctx) => {
      const seen = new Set<string>();
      ctx.value.forEach((t, i) => {
        const pair = `${t.key}:${t.effect}`;
        if (seen.has(pair))
          ctx.issues.push({ code: 'custom', input: t, path: [i], message: `taints must be unique by key and effect pair (${pair} is repeated)` });
        seen.add(pair);
      });
    })
    .describe('Taints the Node registers with (kubeadm nodeRegistration.taints); changing them rolls out new machines.'),
);
