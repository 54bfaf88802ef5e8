// The SDK's standard retry strategy (3 attempts, exponential backoff with jitter, retry quota),
// except that EC2 capacity errors are not retried: EC2 answers InsufficientInstanceCapacity with
// HTTP 500, which the SDK would treat as a transient server error and repeat twice on the same
// offering. ORCA moves on to the next offering instead (provider/placement.ts).
import { StandardRetryStrategy } from '@smithy/core/retry';
import type { RetryErrorInfo, RetryStrategyV2, RetryToken, StandardRetryToken } from '@smithy/types';
import { classifyEc2Error } from './ec2-errors.js';

export class NoCapacityRetryStrategy implements RetryStrategyV2 {
  readonly mode = 'standard';
  readonly #inner: StandardRetryStrategy;

  constructor(maxAttempts = 3) {
    this.#inner = new StandardRetryStrategy(maxAttempts);
  }

  acquireInitialRetryToken(scope: string): Promise<StandardRetryToken> {
    return this.#inner.acquireInitialRetryToken(scope);
  }

  refreshRetryTokenForRetry(token: StandardRetryToken, info: RetryErrorInfo): Promise<StandardRetryToken> {
    const kind = classifyEc2Error(info.error);
    if (kind === 'capacity' || kind === 'reservation-full') return Promise.reject(new Error(`${String(info.error?.name)} is not retried`));
    return this.#inner.refreshRetryTokenForRetry(token, info);
  }

  recordSuccess(token: RetryToken): void {
    this.#inner.recordSuccess(token as StandardRetryToken);
  }
}
