import { describe, expect, it } from 'vitest';
import { UsageError } from '../../../cli/errors.js';
import { parseManifests } from '../../../cli/manifests.js';

describe('reading manifests', () => {
  it('takes every object of a multi-document YAML, skipping empty documents', () => {
    const text = `---
apiVersion: clusterless.dev/v1alpha1
kind: Cluster
metadata: { name: a }
spec: {}
---
# only a comment
---
apiVersion: clusterless.dev/v1alpha1
kind: MachineClass
metadata: { name: b }
spec: { sim: {} }
---
`;
    expect(parseManifests(text, 'f.yaml').map((m) => [m.def.kind, m.object.metadata.name])).toEqual([
      ['Cluster', 'a'],
      ['MachineClass', 'b'],
    ]);
  });

  it('reads JSON and the items of a List', () => {
    const list = {
      apiVersion: 'v1',
      kind: 'List',
      items: [
        { apiVersion: 'clusterless.dev/v1alpha1', kind: 'Cluster', metadata: { name: 'a' }, spec: {} },
        { apiVersion: 'clusterless.dev/v1alpha1', kind: 'Machine', metadata: { name: 'm' }, spec: {} },
      ],
    };
    expect(parseManifests(JSON.stringify(list), 'l.json').map((m) => m.def.plural)).toEqual(['clusters', 'machines']);
  });

  it('keeps YAML 1.2 strings as strings (on, yes), as the API reads them', () => {
    const [m] = parseManifests('apiVersion: clusterless.dev/v1alpha1\nkind: Cluster\nmetadata: { name: a, labels: { x: yes } }\nspec: {}\n', 'f');
    expect(m!.object.metadata.labels).toEqual({ x: 'yes' });
  });

  it.each([
    { name: 'invalid YAML', text: 'kind: [', want: /not valid YAML/ },
    { name: 'another API', text: 'apiVersion: apps/v1\nkind: Deployment\nmetadata: { name: x }', want: /no kind "Deployment" in version "apps\/v1"/ },
    { name: 'no name', text: 'apiVersion: clusterless.dev/v1alpha1\nkind: Cluster\nmetadata: {}', want: /has no metadata.name/ },
    { name: 'a scalar', text: 'hello', want: /must hold objects/ },
  ])('refuses $name as a usage error, naming the source', ({ text, want }) => {
    expect(() => parseManifests(text, 'bad.yaml')).toThrow(UsageError);
    expect(() => parseManifests(text, 'bad.yaml')).toThrow(want);
  });
});
