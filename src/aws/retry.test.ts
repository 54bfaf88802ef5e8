import type { RetryErrorInfo } from '@smithy/types';
import { describe, expect, it } from 'vitest';
import { NoCapacityRetryStrategy } from './retry.js';

/** An error shaped as the SDK throws them (an Error with a name and response metadata). */
type ErrorOf = NonNullable<RetryErrorInfo['error']>;
const error = (name: string, status: number): ErrorOf => Object.assign(new Error(name), { name, $metadata: { httpStatusCode: status } }) as ErrorOf;

describe('NoCapacityRetryStrategy', () => {
  it.each([['InsufficientInstanceCapacity', 500], ['InsufficientCapacityOnHost', 500], ['ReservationCapacityExceeded', 400]])('does not retry %s', async (name, status) => {
    const s = new NoCapacityRetryStrategy();
    const token = await s.acquireInitialRetryToken('ec2');
    await expect(s.refreshRetryTokenForRetry(token, { error: error(name, status), errorType: 'TRANSIENT' })).rejects.toThrow(`${name} is not retried`);
  });

  it('retries throttling and transient errors (HTTP 500 included) as the standard strategy does, up to three attempts', async () => {
    const s = new NoCapacityRetryStrategy();
    const token = await s.acquireInitialRetryToken('ec2');
    const again = await s.refreshRetryTokenForRetry(token, { error: error('RequestLimitExceeded', 503), errorType: 'THROTTLING' });
    expect(again.getRetryCount()).toBe(1);
    const third = await s.refreshRetryTokenForRetry(again, { error: error('InternalError', 500), errorType: 'TRANSIENT' });
    expect(third.getRetryCount()).toBe(2);
    await expect(s.refreshRetryTokenForRetry(third, { error: error('InternalError', 500), errorType: 'TRANSIENT' })).rejects.toThrow();
  });
});
