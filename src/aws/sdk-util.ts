// Small helpers shared by the AWS adapters.

/** `v`, or `fallback` when the SDK left the field out. */
export const or = <T>(v: T | undefined, fallback: T): T => (v === undefined ? fallback : v);

/** SDK send() options carrying an abort signal only when there is one (exactOptionalPropertyTypes). */
export const withSignal = (signal: AbortSignal | undefined): { abortSignal?: AbortSignal } => (signal === undefined ? {} : { abortSignal: signal });
