// Waits for a CustomResourceDefinition to be Established by reading its condition. `kubectl wait
// --for=condition=Established` right after an apply can fail at once (".status.conditions accessor
// error: <nil>") while the new object has no status yet.
import type { CommandResult } from './testbed/testbed.js';

type Kubectl = (args: readonly string[]) => Promise<CommandResult>;

/** True once the CRD `name` is Established; false after `timeoutMs`. */
export async function crdEstablished(kubectl: Kubectl, name: string, timeoutMs = 60_000): Promise<boolean> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const r = await kubectl(['get', 'crd', name, '-o', 'jsonpath={.status.conditions[?(@.type=="Established")].status}']);
    if (r.code === 0 && r.stdout.trim() === 'True') return true;
    if (Date.now() >= until) return false;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}
