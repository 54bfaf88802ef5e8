// The provider of a build without a cloud provider wired in: it launches nothing and rejects every
// pod with a reason the user sees (pod status and Event). Money is never spent by accident.
import { PodRejectedError } from '../domain/errors.js';
import type { Provider } from './provider.js';

export const noProvider: Provider = {
  createPod: () => Promise.reject(new PodRejectedError(
    'NoProvider', 'This ORCA build has no EC2 provider configured, so it cannot run pods; nothing was launched',
  )),
  updatePod: () => Promise.resolve(),
  deletePod: () => Promise.resolve(),
  getPodStatus: () => Promise.resolve(undefined),
  listPods: () => Promise.resolve([]),
  onStatusChange: () => undefined,
};
