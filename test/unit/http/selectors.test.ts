import { describe, expect, it } from 'vitest';
import { ApiError } from '../../../functions/api/http/status.js';
import { parseFieldSelector, parseLabelSelector, selectableFields } from '../../../functions/api/http/selectors.js';
import { customResourceDefinition } from '../../../functions/adapters/kubernetes/crds.js';
import { ClusterKind } from '../../../functions/api/cluster.js';
import type { ApiObject } from '../../../functions/api/kind.js';
import { KINDS } from '../../../functions/api/kinds.js';
import { MachineClassKind } from '../../../functions/api/machine-class.js';
import { MachineDeploymentKind } from '../../../functions/api/machine-deployment.js';

describe('parseLabelSelector', () => {
  it.each([
    { name: 'empty', text: '', want: {} },
    { name: 'equality', text: 'a=b', want: { matchLabels: { a: 'b' } } },
    { name: 'double equals with spaces', text: ' a == b , c=d', want: { matchLabels: { a: 'b', c: 'd' } } },
    { name: 'an empty value', text: 'a=', want: { matchLabels: { a: '' } } },
    { name: 'a prefixed key', text: 'clusterless.dev/cluster-name=c1', want: { matchLabels: { 'clusterless.dev/cluster-name': 'c1' } } },
    { name: 'inequality', text: 'a!=b', want: { matchExpressions: [{ key: 'a', operator: 'NotIn', values: ['b'] }] } },
    {
      name: 'exists and does not exist',
      text: 'a,!b',
      want: {
        matchExpressions: [
          { key: 'a', operator: 'Exists' },
          { key: 'b', operator: 'DoesNotExist' },
        ],
      },
    },
    {
      name: 'in and notin',
      text: 'a in (x, y),b notin (z)',
      want: {
        matchExpressions: [
          { key: 'a', operator: 'In', values: ['x', 'y'] },
          { key: 'b', operator: 'NotIn', values: ['z'] },
        ],
      },
    },
  ])('parses $name', ({ text, want }) => {
    expect(parseLabelSelector(text)).toEqual(want);
  });

  it.each([
    { name: 'two operators', text: 'a=b=c' },
    { name: 'an invalid key', text: '-a=b' },
    { name: 'an invalid value', text: 'a=b c' },
    { name: 'an unclosed set', text: 'a in (x' },
    { name: 'a comparison Kubernetes allows only on nodes', text: 'a>3' },
  ])('refuses $name with BadRequest', ({ text }) => {
    const err = (() => {
      try {
        parseLabelSelector(text);
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(ApiError);
    expect((err as ApiError).status).toMatchObject({ code: 400, reason: 'BadRequest' });
  });
});

describe('parseFieldSelector', () => {
  const md = (clusterName: string, phase?: string) =>
    ({
      apiVersion: 'clusterless.dev/v1alpha1',
      kind: 'MachineDeployment',
      metadata: { name: `md-${clusterName}`, namespace: 'default' },
      spec: { clusterName },
      ...(phase ? { status: { phase } } : {}),
    }) as ApiObject;

  it.each([
    { text: 'spec.clusterName=c1', obj: md('c1'), want: true },
    { text: 'spec.clusterName==c1', obj: md('c2'), want: false },
    { text: 'spec.clusterName!=c1', obj: md('c2'), want: true },
    { text: 'status.phase=Running', obj: md('c1', 'Running'), want: true },
    { text: 'status.phase=Running', obj: md('c1'), want: false },
    { text: 'status.phase=', obj: md('c1'), want: true },
    { text: 'status.phase!=Running', obj: md('c1'), want: true },
    { text: 'metadata.name=md-c1,spec.clusterName=c1', obj: md('c1'), want: true },
    { text: 'metadata.name=md-c1,spec.clusterName=c2', obj: md('c1'), want: false },
  ])('$text on $obj.spec.clusterName $obj.status.phase: $want', ({ text, obj, want }) => {
    expect(parseFieldSelector(text, MachineDeploymentKind as never)(obj)).toBe(want);
  });

  it('offers spec.clusterName and status.phase only where the kind has them', () => {
    expect(selectableFields(MachineDeploymentKind as never)).toEqual(['spec.clusterName', 'status.phase']);
    expect(selectableFields(ClusterKind as never)).toEqual(['status.phase']);
    expect(selectableFields(MachineClassKind as never)).toEqual([]);
  });

  it.each([
    { name: 'a field the kind lacks', text: 'spec.clusterName=c1', kind: ClusterKind },
    { name: 'a field no kind has', text: 'spec.replicas=3', kind: MachineDeploymentKind },
    { name: 'no operator', text: 'status.phase', kind: MachineDeploymentKind },
  ])('refuses $name with a 400 naming the fields it supports', ({ text, kind }) => {
    const err = (() => {
      try {
        parseFieldSelector(text, kind as never);
      } catch (e) {
        return e;
      }
    })() as ApiError;
    expect(err).toBeInstanceOf(ApiError);
    expect(err.status.code).toBe(400);
    expect(err.status.message).toContain('supported fields are metadata.name, metadata.namespace');
  });

  it('the CRDs declare the same selectable fields, so kube-apiserver selects alike', () => {
    for (const k of KINDS) {
      const crd = customResourceDefinition(k);
      const declared = ((crd.spec['versions'] as { selectableFields?: { jsonPath: string }[] }[])[0]!.selectableFields ?? []).map((f) => f.jsonPath);
      expect(declared).toEqual(selectableFields(k).map((f) => `.${f}`));
    }
  });
});
