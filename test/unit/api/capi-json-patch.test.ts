import { describe, expect, it } from 'vitest';
import { applyJsonPatch } from '../../../functions/api/capi/json-patch.js';

describe("applyJsonPatch (the converter evaluating Cluster API inline patches with the topology planner's engine)", () => {
  const template = { spec: { template: { spec: { instanceType: 'REPLACEME', tags: ['a'], 'a/b': { '~c': 1 } } } } };

  it('replaces a field, leaving the input unchanged', () => {
    expect(applyJsonPatch(template, 'replace', '/spec/template/spec/instanceType', 'm7i.large')).toEqual({
      value: { spec: { template: { spec: { ...template.spec.template.spec, instanceType: 'm7i.large' } } } },
    });
    expect(template.spec.template.spec.instanceType).toBe('REPLACEME');
  });

  it('adds a field, making the objects on its way, and appends to a list with -', () => {
    expect(applyJsonPatch({ spec: { template: {} } }, 'add', '/spec/template/spec/region', 'us-east-1')).toEqual({
      value: { spec: { template: { spec: { region: 'us-east-1' } } } },
    });
    expect(applyJsonPatch(template, 'add', '/spec/template/spec/tags/-', 'b')).toMatchObject({ value: { spec: { template: { spec: { tags: ['a', 'b'] } } } } });
  });

  it('removes a field, and reads ~1 and ~0 in a pointer as / and ~', () => {
    expect(applyJsonPatch(template, 'remove', '/spec/template/spec/a~1b/~0c')).toMatchObject({ value: { spec: { template: { spec: { 'a/b': {} } } } } });
  });

  it('says why a patch does not apply: a replace or remove of nothing, an item past the end, not a pointer', () => {
    expect(applyJsonPatch(template, 'replace', '/spec/template/spec/ami', 'x')).toEqual({ error: '/spec/template/spec/ami: no field ami to replace' });
    expect(applyJsonPatch(template, 'remove', '/spec/template/spec/tags/3')).toEqual({ error: '/spec/template/spec/tags/3: no item 3' });
    expect(applyJsonPatch(template, 'replace', '/spec/nothing/here', 1)).toEqual({ error: '/spec/nothing/here: no field nothing' });
    expect(applyJsonPatch(template, 'add', 'spec', 1)).toEqual({ error: 'spec is not a JSON pointer to a field' });
  });
});
