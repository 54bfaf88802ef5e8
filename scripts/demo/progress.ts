// What `npm run demo` says as it goes: each step with the seconds since it began.
export interface Progress {
  step(text: string): void;
  /** Output printed as is (the user view). */
  raw(text: string): void;
  elapsed(): number;
}

export function progressTo(write: (text: string) => void, now: () => number = Date.now): Progress {
  const started = now();
  const elapsed = (): number => (now() - started) / 1000;
  return {
    step: (text) => { write(`[${elapsed().toFixed(1).padStart(5)}s] ${text}\n`); },
    raw: (text) => { write(text.endsWith('\n') ? text : `${text}\n`); },
    elapsed,
  };
}
