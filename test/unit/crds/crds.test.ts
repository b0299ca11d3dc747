/**
 * crds/ is generated from functions/api: it must be what `npm run crds` writes now, and what it writes must
 * be a CRD the API server takes (structural) with what kubectl users expect of Cluster API's CRDs.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { CRDS_DIR, RBAC_FILE, renderCrdFiles, staleCrdFiles } from '../../../scripts/generate-crds.js';
import { crdFileName, customResourceDefinition, mirrorRbac, MIRROR_GROUP } from '../../../functions/adapters/kubernetes/crds.js';
import { KINDS } from '../../../functions/api/kinds.js';

type Schema = Record<string, unknown>;

/** Every schema node with its path (properties, items, additionalProperties, anyOf/allOf/oneOf branches). */
function nodes(s: Schema, path = ''): [string, Schema][] {
  const out: [string, Schema][] = [[path, s]];
  for (const [k, v] of Object.entries((s['properties'] as Record<string, Schema> | undefined) ?? {})) out.push(...nodes(v, `${path}.${k}`));
  if (s['items']) out.push(...nodes(s['items'] as Schema, `${path}[]`));
  if (s['additionalProperties'] && typeof s['additionalProperties'] === 'object') out.push(...nodes(s['additionalProperties'] as Schema, `${path}{}`));
  for (const j of ['anyOf', 'allOf', 'oneOf'])
    for (const [i, b] of ((s[j] as Schema[] | undefined) ?? []).entries())
      out.push(...nodes(b, `${path}.${j}[${i}]`).map(([p, n]) => [p, { ...n, __branch: true }] as [string, Schema]));
  return out;
}

/**
 * The only free-form JSON the kinds hold, kept whole by kube-apiserver (x-kubernetes-preserve-unknown-fields) as
 * Cluster API keeps its apiextensionsv1.JSON fields: variable values and schemas, and patch values. Anything else
 * is typed, so nothing else may be free-form.
 */
const FREE_FORM: Record<string, readonly string[]> = {
  Cluster: ['.spec.topology.workers.machineDeployments[].variables.overrides[].value', '.spec.topology.variables[].value'],
  ClusterClass: ['.spec.variables[].schema.openAPIV3Schema', '.spec.patches[].definitions[].jsonPatches[].value'],
};

const schemaOf = (def: (typeof KINDS)[number]) =>
  (customResourceDefinition(def).spec['versions'] as { schema: { openAPIV3Schema: Schema } }[])[0]!.schema.openAPIV3Schema;

describe('crds/', () => {
  it('is up to date with the schemas (run `npm run crds` after changing functions/api)', () => {
    expect(staleCrdFiles()).toEqual([]);
  });

  it('has one file per kind and the RBAC manifest, and the files parse back to the generated objects', () => {
    const files = renderCrdFiles();
    expect([...files.keys()].sort()).toEqual([...KINDS.map(crdFileName), RBAC_FILE].sort());
    for (const def of KINDS) {
      const docs = parseAllDocuments(readFileSync(join(CRDS_DIR, crdFileName(def)), 'utf8')).map((d) => d.toJS() as unknown);
      expect(docs).toEqual([customResourceDefinition(def)]);
    }
  });
});

describe.each(KINDS.map((def) => ({ kind: def.kind, def })))('CRD of $kind', ({ def }) => {
  const crd = customResourceDefinition(def);
  const version = (crd.spec['versions'] as Record<string, unknown>[])[0]!;

  it('is clusterless.dev/v1alpha1, namespaced, served and stored, named as kubectl users expect', () => {
    expect(crd.metadata.name).toBe(`${def.plural}.clusterless.dev`);
    expect(crd.spec).toMatchObject({
      group: 'clusterless.dev',
      scope: 'Namespaced',
      names: {
        kind: def.kind,
        plural: def.plural,
        singular: def.singular,
        listKind: `${def.kind}List`,
        shortNames: [...def.shortNames],
        categories: ['clusterless'],
      },
    });
    expect(crd.spec['versions']).toHaveLength(1);
    expect(version).toMatchObject({ name: 'v1alpha1', served: true, storage: true });
  });

  it('has the status subresource, and the scale subresource where the kind scales', () => {
    const sub = version['subresources'] as Record<string, unknown>;
    expect(sub['status']).toEqual({});
    // kubectl scale and the HPA read these paths: written out, not taken from the code under test.
    const scales = ['MachineDeployment', 'MachineSet', 'ControlPlane'].includes(def.kind);
    expect(sub['scale']).toEqual(
      scales ? { specReplicasPath: '.spec.replicas', statusReplicasPath: '.status.replicas', labelSelectorPath: '.status.selector' } : undefined,
    );
  });

  it('prints the columns of the kind, as Cluster API does', () => {
    const columns = version['additionalPrinterColumns'] as { name: string; jsonPath: string; type: string }[];
    expect(columns.map((c) => [c.name, c.jsonPath, c.type])).toEqual(def.printerColumns.map((c) => [c.name, c.jsonPath, c.type]));
  });

  it('has a structural schema the API server accepts', () => {
    const all = nodes(schemaOf(def));
    for (const [path, n] of all) {
      // Types are given everywhere except under anyOf/allOf/oneOf, where only the int-or-string pair may say one.
      if (n['__branch']) {
        if (n['type'] !== undefined) expect(['integer', 'string'], path).toContain(n['type']);
        expect(
          Object.keys(n).filter((k) => k !== '__branch' && k !== 'type'),
          path,
        ).toEqual([]);
      } else if (n['x-kubernetes-int-or-string']) expect(n['anyOf'], path).toEqual([{ type: 'integer' }, { type: 'string' }]);
      else if (n['x-kubernetes-preserve-unknown-fields']) expect(FREE_FORM[def.kind] ?? [], path).toContain(path);
      else expect(n['type'], `${path} has no type`).toBeDefined();
      expect(n['additionalProperties'], path).not.toBe(false);
      expect(n['$ref'], path).toBeUndefined();
      expect(n['nullable'], path).toBeUndefined();
      // An object schema with neither properties nor a value schema would prune everything under it.
      if (n['type'] === 'object' && path !== '.metadata') expect(n['properties'] ?? n['additionalProperties'], `${path} would be pruned`).toBeDefined();
    }
    expect(all.filter(([, n]) => n['x-kubernetes-preserve-unknown-fields']).map(([p]) => p)).toEqual(FREE_FORM[def.kind] ?? []);
  });
});

describe('crds/rbac.yaml', () => {
  const [role, binding] = mirrorRbac() as [Record<string, unknown>, Record<string, unknown>];
  const rules = role['rules'] as { apiGroups: string[]; resources: string[]; verbs: string[] }[];

  it('grants the mirror only the clusterless resources, their status, and creating namespaces', () => {
    const plurals = KINDS.map((k) => k.plural);
    expect(rules).toEqual([
      { apiGroups: ['clusterless.dev'], resources: plurals, verbs: ['get', 'list', 'watch', 'create', 'patch', 'delete'] },
      { apiGroups: ['clusterless.dev'], resources: plurals.map((p) => `${p}/status`), verbs: ['get', 'patch'] },
      { apiGroups: [''], resources: ['namespaces'], verbs: ['create'] },
    ]);
    expect(JSON.stringify(rules)).not.toContain('*');
  });

  it('binds the role to the mirror group, not to a ServiceAccount', () => {
    expect(binding).toMatchObject({
      kind: 'ClusterRoleBinding',
      roleRef: { kind: 'ClusterRole', name: (role['metadata'] as { name: string }).name },
      subjects: [{ kind: 'Group', name: MIRROR_GROUP }],
    });
  });
});
