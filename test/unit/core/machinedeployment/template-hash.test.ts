/** Which MachineSets are up to date (what rolls, what is propagated in place), the template hash and set names. */
import { describe, expect, it } from 'vitest';
import { Labels } from '../../../../functions/api/common.js';
import type { MachineTemplate } from '../../../../functions/api/template.js';
import {
  machineSetName,
  machineTemplateUpToDate,
  templateDifferences,
  templateHash,
  templateIdentity,
} from '../../../../functions/core/machinedeployment/template-hash.js';
import { machineDeployment } from '../machineset/fixtures.js';

const base = machineDeployment().spec.template;
const change = (f: (t: MachineTemplate) => MachineTemplate) => f(structuredClone(base));

/**
 * Cluster API's MachineTemplateUpToDate table (internal/controllers/machinedeployment/mdutil/util_test.go
 * TestMachineTemplateUpToDate), in this template's fields: labels, annotations and the node drain timeout are
 * propagated in place; version, MachineClass (Cluster API's infrastructureRef) and failure domain roll. Each case
 * runs both ways, as upstream does.
 */
describe('MachineTemplateUpToDate', () => {
  const t0 = change((t) => ({
    metadata: { labels: { ...t.metadata.labels, l1: 'v1' }, annotations: { a1: 'v1' } },
    spec: { ...t.spec, failureDomain: 'failure-domain1', nodeDrainTimeoutSeconds: 10 },
  }));
  const from = (f: (t: MachineTemplate) => MachineTemplate) => f(structuredClone(t0));
  it.each([
    { name: 'same spec', desired: from((t) => t), upToDate: true, why: [], back: [] },
    { name: 'same spec, desired without labels', desired: from((t) => ({ ...t, metadata: { ...t.metadata, labels: {} } })), upToDate: true, why: [], back: [] },
    {
      name: 'same spec, desired with other labels',
      desired: from((t) => ({ ...t, metadata: { ...t.metadata, labels: { l2: 'v2' } } })),
      upToDate: true,
      why: [],
      back: [],
    },
    {
      name: 'same spec, desired without annotations',
      desired: from((t) => ({ ...t, metadata: { ...t.metadata, annotations: {} } })),
      upToDate: true,
      why: [],
      back: [],
    },
    {
      name: 'same spec, desired with other annotations',
      desired: from((t) => ({ ...t, metadata: { ...t.metadata, annotations: { a2: 'v2' } } })),
      upToDate: true,
      why: [],
      back: [],
    },
    {
      name: 'same spec, desired with the template-hash label of another set',
      desired: from((t) => ({ ...t, metadata: { ...t.metadata, labels: { ...t.metadata.labels, [Labels.templateHash]: 'x' } } })),
      upToDate: true,
      why: [],
      back: [],
    },
    {
      name: 'another node drain timeout (in place)',
      desired: from((t) => ({ ...t, spec: { ...t.spec, nodeDrainTimeoutSeconds: 20 } })),
      upToDate: true,
      why: [],
      back: [],
    },
    {
      name: 'another version',
      desired: from((t) => ({ ...t, spec: { ...t.spec, version: 'v1.32.0' } })),
      upToDate: false,
      why: ['* Version v1.31.2, v1.32.0 required'],
      back: ['* Version v1.32.0, v1.31.2 required'],
    },
    {
      name: 'another failure domain',
      desired: from((t) => ({ ...t, spec: { ...t.spec, failureDomain: 'failure-domain2' } })),
      upToDate: false,
      why: ['* Failure domain failure-domain1, failure-domain2 required'],
      back: ['* Failure domain failure-domain2, failure-domain1 required'],
    },
    {
      name: 'no failure domain',
      desired: from((t) => {
        const { failureDomain: _fd, ...spec } = t.spec;
        return { ...t, spec };
      }),
      upToDate: false,
      why: ['* Failure domain failure-domain1, (any) required'],
      back: ['* Failure domain (any), failure-domain1 required'],
    },
    {
      name: 'another MachineClass (Cluster API: another infrastructureRef)',
      desired: from((t) => ({ ...t, spec: { ...t.spec, machineClassRef: { name: 'large' } } })),
      upToDate: false,
      why: ['* MachineClass small, large required'],
      back: ['* MachineClass large, small required'],
    },
    {
      name: 'key order',
      desired: from((t) => ({
        spec: { nodeDrainTimeoutSeconds: 10, failureDomain: 'failure-domain1', machineClassRef: { name: 'small' }, version: t.spec.version },
        metadata: t.metadata,
      })),
      upToDate: true,
      why: [],
      back: [],
    },
  ])('$name: up to date = $upToDate', ({ desired, upToDate, why, back }) => {
    // Act / Assess: both ways
    expect(machineTemplateUpToDate(t0, desired)).toBe(upToDate);
    expect(machineTemplateUpToDate(desired, t0)).toBe(upToDate);
    expect(templateIdentity(t0) === templateIdentity(desired)).toBe(upToDate);
    expect(templateDifferences(t0, desired)).toEqual(why);
    expect(templateDifferences(desired, t0)).toEqual(back);
  });

  it('explains every rollout field that differs, version first', () => {
    // Prepare
    const desired = change((t) => ({
      metadata: { labels: { ...t.metadata.labels, team: 'a' } },
      spec: { ...t.spec, version: 'v1.32.0', machineClassRef: { name: 'large' }, failureDomain: 'zone-a', nodeDrainTimeoutSeconds: 60 },
    }));
    // Act / Assess
    expect(templateDifferences(base, desired)).toEqual([
      '* Version v1.31.2, v1.32.0 required',
      '* MachineClass small, large required',
      '* Failure domain (any), zone-a required',
    ]);
  });
});

describe('template hash', () => {
  it('hashes to 10 characters of the safe alphabet', () => {
    // Act / Assess
    expect(templateHash(base)).toMatch(/^[bcdfghjklmnpqrstvwxz2456789]{10}$/);
  });

  it.each([
    { name: 'the fixture template', t: base, hash: 'cjd4fqdh75' },
    {
      name: 'a template with labels, a failure domain and a drain timeout',
      t: change((t) => ({ metadata: { labels: { team: 'a' } }, spec: { ...t.spec, failureDomain: 'zone-a', nodeDrainTimeoutSeconds: 60 } })),
      hash: 'vsglkkgg9v',
    },
  ])('is what earlier releases computed for $name, so that an upgrade renames no set', ({ t, hash }) => {
    // Act / Assess: the values the previous release's templateHash gave for these templates.
    expect(templateHash(t)).toBe(hash);
  });

  it('ignores the template-hash label and key order', () => {
    // Prepare
    const labelled = change((t) => ({ ...t, metadata: { ...t.metadata, labels: { ...t.metadata.labels, [Labels.templateHash]: 'x' } } }));
    const reordered = change((t) => ({
      spec: { nodeDrainTimeoutSeconds: t.spec.nodeDrainTimeoutSeconds, machineClassRef: t.spec.machineClassRef, version: t.spec.version },
      metadata: t.metadata,
    }));
    // Act / Assess
    expect(templateHash(labelled)).toBe(templateHash(base));
    expect(templateHash(reordered)).toBe(templateHash(base));
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
