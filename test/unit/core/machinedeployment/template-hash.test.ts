/** Which MachineSets are up to date: template identity, hash and names. */
import { describe, expect, it } from 'vitest';
import { Labels } from '../../../../functions/api/common.js';
import type { MachineTemplate } from '../../../../functions/api/template.js';
import { machineSetName, templateDifferences, templateHash, templateIdentity } from '../../../../functions/core/machinedeployment/template-hash.js';
import { machineDeployment } from '../machineset/fixtures.js';

const base = machineDeployment().spec.template;
const change = (f: (t: MachineTemplate) => MachineTemplate) => f(structuredClone(base));

describe('template identity', () => {
  it.each([
    { name: 'a version change', t: change((t) => ({ ...t, spec: { ...t.spec, version: 'v1.32.0' } })), same: false },
    { name: 'a MachineClass change', t: change((t) => ({ ...t, spec: { ...t.spec, machineClassRef: { name: 'large' } } })), same: false },
    { name: 'a label change', t: change((t) => ({ ...t, metadata: { ...t.metadata, labels: { ...t.metadata.labels, team: 'a' } } })), same: false },
    {
      name: 'the template-hash label',
      t: change((t) => ({ ...t, metadata: { ...t.metadata, labels: { ...t.metadata.labels, [Labels.templateHash]: 'x' } } })),
      same: true,
    },
    { name: 'an annotation (propagated in place)', t: change((t) => ({ ...t, metadata: { ...t.metadata, annotations: { note: 'x' } } })), same: true },
    {
      name: 'key order',
      t: change((t) => ({
        spec: { nodeDrainTimeoutSeconds: t.spec.nodeDrainTimeoutSeconds, machineClassRef: t.spec.machineClassRef, version: t.spec.version },
        metadata: t.metadata,
      })),
      same: true,
    },
  ])('$name: same = $same', ({ t, same }) => {
    // Act / Assess
    expect(templateIdentity(t) === templateIdentity(base)).toBe(same);
    expect(templateHash(t) === templateHash(base)).toBe(same);
  });

  it('hashes to 10 characters of the safe alphabet', () => {
    // Act / Assess
    expect(templateHash(base)).toMatch(/^[bcdfghjklmnpqrstvwxz2456789]{10}$/);
  });

  it('names the set {deployment}-{hash}, shortening the deployment name to stay a 63-character label', () => {
    // Prepare
    const long = machineDeployment({ name: `a${'-b'.repeat(30)}c` });
    // Act
    const name = machineSetName(long, 'hhhhhhhhhh');
    // Assess
    expect(machineSetName(machineDeployment(), 'hhhhhhhhhh')).toBe('md-hhhhhhhhhh');
    expect(name.length).toBeLessThanOrEqual(63);
    expect(name).toMatch(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/);
    expect(name).not.toContain('--');
  });

  it('explains the differences, version first', () => {
    // Prepare
    const desired = change((t) => ({
      metadata: { labels: { ...t.metadata.labels, team: 'a' } },
      spec: { ...t.spec, version: 'v1.32.0', machineClassRef: { name: 'large' } },
    }));
    // Act / Assess
    expect(templateDifferences(base, desired)).toEqual(['* Version v1.31.2, v1.32.0 required', '* MachineClass small, large required', '* Labels changed']);
  });

  it('explains a failure domain pinned or unpinned, and a new node drain timeout', () => {
    // Prepare
    const pinned = change((t) => ({ ...t, spec: { ...t.spec, failureDomain: 'zone-a', nodeDrainTimeoutSeconds: 60 } }));
    // Act / Assess
    expect(templateDifferences(base, pinned)).toEqual([
      '* Failure domain (any), zone-a required',
      `* Node drain timeout ${base.spec.nodeDrainTimeoutSeconds}s, 60s required`,
    ]);
    expect(templateDifferences(pinned, base)).toEqual([
      '* Failure domain zone-a, (any) required',
      `* Node drain timeout 60s, ${base.spec.nodeDrainTimeoutSeconds}s required`,
    ]);
    expect(
      templateDifferences(
        base,
        change((t) => t),
      ),
    ).toEqual([]);
  });
});

describe('machineSetName, long names', () => {
  it("cuts a long deployment name to stay a 63-character label, without the dashes the cut leaves at the prefix's end", () => {
    // Prepare: the cut falls just after a run of dashes.
    const md = machineDeployment({ name: `${'a'.repeat(50)}--${'b'.repeat(11)}` });
    const hash = templateHash(md.spec.template);
    // Act & Assess
    expect(machineSetName(md, hash)).toBe(`${'a'.repeat(63 - hash.length - 3)}-${hash}`);
  });
});
