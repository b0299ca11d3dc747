/**
 * The CustomResourceDefinitions of the clusterless kinds and the mirror's RBAC, built from functions/api
 * (zod schemas, KindDef). scripts/generate-crds.ts writes them to crds/; tests and `installCrds` use them
 * from here, so what is committed and what is installed cannot drift (test/unit/crds checks crds/).
 */
import { GROUP, VERSION } from '../../api/common.js';
import type { ApiObject, KindDef } from '../../api/kind.js';
import { KINDS } from '../../api/kinds.js';
import { KIND_DESCRIPTIONS, crdSchema, kindJsonSchema, type JsonSchema } from '../../api/openapi.js';
import { selectableFields } from '../../api/http/selectors.js';
import type { KindName } from '../../api/kinds.js';

/** Who the mirror is in a target cluster: the RBAC binding names this group (and nothing else). */
export const MIRROR_GROUP = 'clusterless:mirror';
export const MIRROR_CLUSTER_ROLE = 'clusterless-mirror';

export interface CustomResourceDefinition {
  apiVersion: 'apiextensions.k8s.io/v1';
  kind: 'CustomResourceDefinition';
  metadata: { name: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  spec: JsonSchema;
}

const MANAGED_BY = { 'app.kubernetes.io/managed-by': 'clusterless', 'app.kubernetes.io/part-of': 'clusterless' };

/** The CRD of one kind: clusterless.dev/v1alpha1, served and stored, status (and scale) subresources. */
export function customResourceDefinition(def: KindDef<ApiObject>): CustomResourceDefinition {
  const subresources: JsonSchema = { status: {} };
  if (def.scale) subresources['scale'] = { ...def.scale };
  const printerColumns = def.printerColumns.map((c) => ({
    name: c.name,
    type: c.type,
    jsonPath: c.jsonPath,
    ...(c.description ? { description: c.description } : {}),
    ...(c.priority ? { priority: c.priority } : {}),
  }));
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: {
      name: `${def.plural}.${GROUP}`,
      labels: { ...MANAGED_BY },
      annotations: { 'clusterless.dev/description': KIND_DESCRIPTIONS[def.kind as KindName] },
    },
    spec: {
      group: GROUP,
      names: {
        kind: def.kind,
        listKind: `${def.kind}List`,
        plural: def.plural,
        singular: def.singular,
        ...(def.shortNames.length ? { shortNames: [...def.shortNames] } : {}),
        ...(def.categories?.length ? { categories: [...def.categories] } : {}),
      },
      scope: 'Namespaced',
      versions: [
        {
          name: VERSION,
          served: true,
          storage: true,
          schema: { openAPIV3Schema: crdSchema(kindJsonSchema(def)) },
          subresources,
          additionalPrinterColumns: printerColumns,
          // What a field selector may name besides metadata.name and metadata.namespace (GA in Kubernetes 1.32).
          ...(selectableFields(def).length ? { selectableFields: selectableFields(def).map((f) => ({ jsonPath: `.${f}` })) } : {}),
        },
      ],
    },
  };
}

export function customResourceDefinitions(): CustomResourceDefinition[] {
  return KINDS.map(customResourceDefinition);
}

/** The file each CRD is written to under crds/, named as kubebuilder names them. */
export function crdFileName(def: KindDef<ApiObject>): string {
  return `${GROUP}_${def.plural}.yaml`;
}

/**
 * The mirror's RBAC: on the seven resources and their status, exactly the verbs it uses (server-side apply
 * is a patch that may create; list and watch for the resync and the import; delete for deletions and for
 * cleaning an old target), plus `create` on namespaces, since an object cannot be applied into a namespace
 * the target lacks. Bound to a group, not a ServiceAccount, so any identity the target's authenticator puts
 * in that group (a client certificate with O=clusterless:mirror, a token) is the mirror.
 */
export function mirrorRbac(): Record<string, unknown>[] {
  const plurals = KINDS.map((k) => k.plural);
  return [
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRole',
      metadata: { name: MIRROR_CLUSTER_ROLE, labels: { ...MANAGED_BY } },
      rules: [
        { apiGroups: [GROUP], resources: plurals, verbs: ['get', 'list', 'watch', 'create', 'patch', 'delete'] },
        { apiGroups: [GROUP], resources: plurals.map((p) => `${p}/status`), verbs: ['get', 'patch'] },
        { apiGroups: [''], resources: ['namespaces'], verbs: ['create'] },
      ],
    },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRoleBinding',
      metadata: { name: MIRROR_CLUSTER_ROLE, labels: { ...MANAGED_BY } },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: MIRROR_CLUSTER_ROLE },
      subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'Group', name: MIRROR_GROUP }],
    },
  ];
}
