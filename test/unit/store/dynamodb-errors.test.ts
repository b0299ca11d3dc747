import {
  ConditionalCheckFailedException,
  InternalServerError,
  ProvisionedThroughputExceededException,
  RequestLimitExceeded,
  ResourceNotFoundException,
} from '@aws-sdk/client-dynamodb';
import { describe, expect, it } from 'vitest';
import { decimal, toStoreError } from '../../../functions/adapters/dynamodb/dynamodb-store.js';
import { StoreUnavailableError } from '../../../functions/ports.js';

const meta = (httpStatusCode: number) => ({ $metadata: { httpStatusCode } });

function throttling(): Error {
  const e = new Error('Rate exceeded');
  e.name = 'ThrottlingException';
  return e;
}

describe('toStoreError', () => {
  it.each([
    { name: 'ProvisionedThroughputExceededException', error: new ProvisionedThroughputExceededException({ message: 'slow down', ...meta(400) }) },
    { name: 'ThrottlingException', error: throttling() },
    { name: 'RequestLimitExceeded', error: new RequestLimitExceeded({ message: 'account limit', ...meta(400) }) },
    { name: 'InternalServerError (500)', error: new InternalServerError({ message: 'oops', ...meta(500) }) },
  ])('reports $name as StoreUnavailableError keeping the cause', ({ error }) => {
    const mapped = toStoreError(error);
    expect(mapped).toBeInstanceOf(StoreUnavailableError);
    expect((mapped as Error).cause).toBe(error);
  });

  it.each([
    { name: 'ConditionalCheckFailedException', error: new ConditionalCheckFailedException({ message: 'no', ...meta(400) }) },
    { name: 'ResourceNotFoundException', error: new ResourceNotFoundException({ message: 'no table', ...meta(400) }) },
    { name: 'a plain Error', error: new Error('bug') },
  ])('passes $name through', ({ error }) => {
    expect(toStoreError(error)).toBe(error);
  });
});

describe('decimal: the numbers a usage add sends, in plain notation', () => {
  it.each([
    [5e-7, '0.0000005'],
    [1, '1'],
    [0.125, '0.125'],
    [1e-16, '0'],
    [123456.5, '123456.5'],
  ])('%s is %s', (value, text) => {
    expect(decimal(value)).toBe(text);
  });
});
