// The process groups the emulator started (agents and containers), killed when the test process
// exits without stop() — a failed hook, an uncaught error — so no agent polls a dead IMDS forever.
const groups = new Set<number>();

process.on('exit', () => {
  for (const pgid of groups) {
    try {
      process.kill(-pgid, 'SIGKILL');
    } catch {
      // Already gone.
    }
  }
});

/** Remembers a process group (its leader's pid) until `release`. */
export function track(pgid: number | undefined): void {
  if (pgid !== undefined) groups.add(pgid);
}

export function release(pgid: number | undefined): void {
  if (pgid !== undefined) groups.delete(pgid);
}
