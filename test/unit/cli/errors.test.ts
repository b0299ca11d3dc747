import { describe, expect, it } from 'vitest';
import { ApiRequestError, ExitCode, OperationError, UnreachableError, UsageError, errorLine, exitCodeOf, statusMessage } from '../../../cli/errors.js';

describe('error lines and exit codes', () => {
  it('uses the Status message, which names the field', () => {
    const status = {
      kind: 'Status',
      message: 'Cluster.clusterless.dev "a" is invalid: spec.paused: Invalid value',
      details: { causes: [{ field: 'spec.paused', message: 'Invalid value' }] },
    };
    expect(statusMessage(status, 'x')).toBe('Cluster.clusterless.dev "a" is invalid: spec.paused: Invalid value');
  });

  it('adds the field of the first cause when the message does not name it', () => {
    const status = { kind: 'Status', message: 'the object is invalid', details: { causes: [{ field: 'spec.replicas', message: 'must be odd' }] } };
    expect(statusMessage(status, 'x')).toBe('the object is invalid (field spec.replicas: must be odd)');
  });

  it('prints one line, whatever the message holds', () => {
    expect(errorLine(new Error('first\n  second\nthird'))).toBe('error: first second third');
  });

  it.each([
    { name: 'API refusal', err: new ApiRequestError('no', 422, undefined), code: ExitCode.failed },
    { name: 'operation failure', err: new OperationError('timed out'), code: ExitCode.failed },
    { name: 'usage', err: new UsageError('bad flag'), code: ExitCode.usage },
    { name: 'unreachable', err: new UnreachableError('down'), code: ExitCode.unreachable },
    { name: 'anything else', err: new Error('bug'), code: ExitCode.failed },
  ])('$name exits $code', ({ err, code }) => {
    expect(exitCodeOf(err)).toBe(code);
  });

  it('keeps the documented codes', () => {
    expect(ExitCode).toEqual({ ok: 0, failed: 1, usage: 2, unreachable: 3 });
  });
});
