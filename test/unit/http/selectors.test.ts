import { describe, expect, it } from 'vitest';
import { ApiError } from '../../../functions/api/http/status.js';
import { parseLabelSelector } from '../../../functions/api/http/selectors.js';

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
