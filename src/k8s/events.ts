// core/v1 Events on any object, as ORCA records them: source component `orca` (and the node as host,
// for a kubelet's Events), the message cut to 1 KiB, never throwing (a lost Event must not fail the
// caller: a refused one is logged at warn).
import { randomBytes } from 'node:crypto';
import { CoreV1Api, type CoreV1Event, type KubeConfig } from '@kubernetes/client-node';
import type { EventType } from '../ports/kube.js';
import type { Logger } from '../observability/logger.js';
import { statusOf } from './client.js';

/** The object an Event is about. */
export interface InvolvedObject {
  readonly apiVersion: string;
  readonly kind: string;
  readonly namespace: string;
  readonly name: string;
  readonly uid: string;
}

export interface EventPosterDeps {
  readonly kc: KubeConfig;
  readonly log: Logger;
  readonly now: () => Date;
  /** The node the Events come from (source.host, reportingInstance); absent for Events that are not a node's. */
  readonly host?: string;
}

/** Records one Event on `about` in its namespace; returns at once and never throws. */
export type PostEvent = (about: InvolvedObject, type: EventType, reason: string, message: string) => void;

export function createEventPoster(deps: EventPosterDeps): PostEvent {
  const core = deps.kc.makeApiClient(CoreV1Api);
  const host = deps.host === undefined ? {} : { host: deps.host };
  const instance = deps.host === undefined ? {} : { reportingInstance: deps.host };
  return (about, type, reason, message) => {
    const { namespace, name } = about;
    const now = deps.now();
    const body: CoreV1Event = {
      metadata: { name: `${name}.${randomBytes(8).toString('hex')}`, namespace },
      involvedObject: { ...about },
      type, reason, message: message.slice(0, 1024),
      source: { component: 'orca', ...host },
      reportingComponent: 'orca', ...instance,
      firstTimestamp: now, lastTimestamp: now, count: 1,
    };
    core.createNamespacedEvent({ namespace, body }).catch((e: unknown) => {
      deps.log.warn({ kind: about.kind, object: `${namespace}/${name}`, reason, status: statusOf(e) }, 'could not record event');
    });
  };
}
