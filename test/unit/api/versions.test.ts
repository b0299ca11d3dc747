import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compareVersions, parseVersion } from '../../../functions/api/common.js';
import type { KindName } from '../../../functions/api/kinds.js';
import { versionChangeCauses } from '../../../functions/api/template.js';
import { validateUpdate } from '../../../functions/api/validate.js';
import { createCauses, created, expectOnlyCause, minimal, updateCauses, valueAt, withValue } from './fixtures.js';

/** Every field that holds a Kubernetes version, and its kind. */
const versionFields: { kind: KindName; field: string }[] = [
  { kind: 'ControlPlane', field: 'spec.version' },
  { kind: 'MachineDeployment', field: 'spec.template.spec.version' },
  { kind: 'MachineSet', field: 'spec.template.spec.version' },
  { kind: 'Machine', field: 'spec.version' },
];

describe('version format', () => {
  const good = ['v1.31.2', 'v1.0.0', 'v0.1.0', 'v1.31.0-rc.1', 'v1.31.0-alpha.0.123+abc', 'v1.31.2+eks.1'];
  const bad = ['1.31.2', 'v1.31', 'v1', 'v1.31.2.4', 'v01.31.2', 'v1.031.2', 'latest', 'v1.31.2-', 'v1.31.2-rc..1', 'V1.31.2', ''];

  it.each(versionFields.flatMap((f) => good.map((version) => ({ ...f, version }))))('$kind $field: $version is accepted', ({ kind, field, version }) => {
    expect(valueAt(created(withValue(minimal[kind](), field, version)), field)).toBe(version);
  });

  it.each(versionFields.flatMap((f) => bad.map((version) => ({ ...f, version }))))('$kind $field: "$version" is refused', ({ kind, field, version }) => {
    const causes = createCauses(withValue(minimal[kind](), field, version));
    expectOnlyCause(causes, field, 'FieldValueInvalid', 'vMAJOR.MINOR.PATCH');
  });
});

describe('version changes on update', () => {
  const allowed = [
    { name: 'the same version', from: 'v1.31.2', to: 'v1.31.2' },
    { name: 'a patch upgrade', from: 'v1.31.2', to: 'v1.31.5' },
    { name: 'the next minor, first patch', from: 'v1.31.2', to: 'v1.32.0' },
    { name: 'the next minor, any patch', from: 'v1.31.2', to: 'v1.32.9' },
    { name: 'a release candidate to its release', from: 'v1.32.0-rc.1', to: 'v1.32.0' },
    { name: 'only build metadata', from: 'v1.31.2', to: 'v1.31.2+eks.2' },
  ];
  const refused = [
    { name: 'a patch downgrade', from: 'v1.31.2', to: 'v1.31.1', message: 'cannot be decreased' },
    { name: 'a minor downgrade', from: 'v1.31.2', to: 'v1.30.9', message: 'cannot be decreased' },
    { name: 'a release to its release candidate', from: 'v1.32.0', to: 'v1.32.0-rc.1', message: 'cannot be decreased' },
    { name: 'a skipped minor', from: 'v1.31.2', to: 'v1.33.0', message: 'one minor version at a time' },
    { name: 'two skipped minors', from: 'v1.30.0', to: 'v1.33.1', message: 'one minor version at a time' },
    { name: 'a major upgrade', from: 'v1.31.2', to: 'v2.0.0', message: 'one minor version at a time' },
  ];

  it.each(versionFields.flatMap((f) => allowed.map((c) => ({ ...f, ...c }))))('$kind $field: $name is allowed', ({ kind, field, from, to }) => {
    // Prepare
    const old = created(withValue(minimal[kind](), field, from));
    // Act
    const r = validateUpdate(old, withValue(old, field, to));
    // Assess
    expect(r.ok && valueAt(r.object, field)).toBe(to);
  });

  it.each(versionFields.flatMap((f) => refused.map((c) => ({ ...f, ...c }))))('$kind $field: $name is refused', ({ kind, field, from, to, message }) => {
    const old = created(withValue(minimal[kind](), field, from));
    expectOnlyCause(updateCauses(old, withValue(old, field, to)), field, 'FieldValueForbidden', message);
  });

  it.each(versionFields)('$kind $field: a rollback may go down, but still not skip up', ({ kind, field }) => {
    const old = created(withValue(minimal[kind](), field, 'v1.31.2'));
    expect(validateUpdate(old, withValue(old, field, 'v1.30.0'), { allowVersionDowngrade: true }).ok).toBe(true);
    expectOnlyCause(updateCauses(old, withValue(old, field, 'v1.33.0'), { allowVersionDowngrade: true }), field, 'FieldValueForbidden');
  });

  it('names the next allowed minor', () => {
    const [c] = versionChangeCauses('spec.version', 'v1.31.2', 'v1.34.0');
    expect(c?.message).toContain('v1.32.x');
  });
});

// Property tests: versions as tuples, with optional pre-release identifiers and build metadata.
const identifier = fc.oneof(fc.nat({ max: 30 }).map(String), fc.constantFrom('alpha', 'beta', 'rc', 'a1', 'x-y'));
const versionArb = fc
  .record({
    major: fc.nat({ max: 3 }),
    minor: fc.nat({ max: 40 }),
    patch: fc.nat({ max: 20 }),
    pre: fc.option(fc.array(identifier, { minLength: 1, maxLength: 3 }), { nil: undefined }),
    build: fc.option(fc.constantFrom('eks.1', 'build.7', '20250101'), { nil: undefined }),
  })
  .map(({ major, minor, patch, pre, build }) => `v${major}.${minor}.${patch}${pre ? `-${pre.join('.')}` : ''}${build ? `+${build}` : ''}`);

describe('compareVersions', () => {
  it('parses what it generates', () => {
    fc.assert(fc.property(versionArb, (v) => parseVersion(v) !== undefined));
  });

  it('is antisymmetric and reflexive', () => {
    fc.assert(
      fc.property(versionArb, versionArb, (a, b) => {
        expect(Math.sign(compareVersions(a, b))).toBe(-Math.sign(compareVersions(b, a)) || 0);
        expect(compareVersions(a, a)).toBe(0);
      }),
    );
  });

  it('is transitive (sorting agrees with every pair)', () => {
    fc.assert(
      fc.property(fc.array(versionArb, { minLength: 2, maxLength: 12 }), (vs) => {
        const sorted = [...vs].sort(compareVersions);
        for (let i = 0; i + 1 < sorted.length; i++)
          for (let j = i + 1; j < sorted.length; j++) expect(compareVersions(sorted[i]!, sorted[j]!)).toBeLessThanOrEqual(0);
      }),
    );
  });

  it('orders releases as (major, minor, patch) tuples', () => {
    const tuple = fc.tuple(fc.nat({ max: 5 }), fc.nat({ max: 50 }), fc.nat({ max: 50 }));
    fc.assert(
      fc.property(tuple, tuple, (x, y) => {
        const expected = Math.sign(x[0] - y[0] || x[1] - y[1] || x[2] - y[2]);
        expect(compareVersions(`v${x.join('.')}`, `v${y.join('.')}`)).toBe(expected);
      }),
    );
  });

  it('puts a pre-release before its release, and ignores build metadata', () => {
    fc.assert(
      fc.property(versionArb, (v) => {
        const release = v.replace(/[-+].*$/, '');
        if (parseVersion(v)?.pre !== undefined) expect(compareVersions(v, release)).toBe(-1);
        else expect(compareVersions(v, release)).toBe(0);
      }),
    );
  });

  it.each([
    ['v1.0.0-alpha', 'v1.0.0-alpha.1'],
    ['v1.0.0-alpha.1', 'v1.0.0-alpha.beta'],
    ['v1.0.0-alpha.beta', 'v1.0.0-beta'],
    ['v1.0.0-beta.2', 'v1.0.0-beta.11'],
    ['v1.0.0-beta.11', 'v1.0.0-rc.1'],
    ['v1.0.0-rc.1', 'v1.0.0'],
  ])('semver precedence: %s < %s', (a, b) => {
    expect(compareVersions(a, b)).toBe(-1);
  });
});

describe('versionChangeCauses', () => {
  it('refuses exactly the downgrades, the major changes and the skipped minors', () => {
    fc.assert(
      fc.property(versionArb, versionArb, (a, b) => {
        const x = parseVersion(a)!;
        const y = parseVersion(b)!;
        const refuse = compareVersions(b, a) < 0 || (a !== b && (y.major !== x.major || y.minor > x.minor + 1));
        expect(versionChangeCauses('spec.version', a, b).length > 0).toBe(refuse);
      }),
    );
  });
});
