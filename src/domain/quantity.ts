// Kubernetes resource quantities ("500m", "2", "16Gi", "1.5e3") as plain numbers. Pure.

/** Each suffix as a power of ten or of two: [radix, exponent]. */
const suffixes: Readonly<Record<string, readonly [number, number]>> = {
  n: [10, -9], u: [10, -6], m: [10, -3], '': [10, 0], k: [10, 3], M: [10, 6], G: [10, 9], T: [10, 12], P: [10, 15], E: [10, 18],
  Ki: [2, 10], Mi: [2, 20], Gi: [2, 30], Ti: [2, 40], Pi: [2, 50], Ei: [2, 60],
};

/** `value` × radix^exponent; a negative exponent divides, so that "9m" is 0.009 and not 0.009000000000000001. */
const scaled = (value: number, [radix, exponent]: readonly [number, number]): number =>
  exponent < 0 ? value / radix ** -exponent : value * radix ** exponent;

/** The quantity's value in base units (cores, bytes, devices); undefined when it is not a quantity. */
export function parseQuantity(q: string): number | undefined {
  const m = /^([+-]?(?:\d+\.?\d*|\.\d+))(?:([eE][+-]?\d+)|(Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE])?)$/.exec(q.trim());
  if (m === null) return undefined;
  const base = Number(m[1]);
  if (m[2] !== undefined) return scaled(base, [10, Number(m[2].slice(1))]);
  return scaled(base, suffixes[m[3] ?? ''] ?? [10, 0]);
}
