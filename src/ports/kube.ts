// The narrow view of the Kubernetes API that ORCA's controllers need, in ORCA's own types.
// Implemented in k8s/ over @kubernetes/client-node; faked in unit tests.
import type { NodeManifest, NodeStatus } from '../domain/node.js';
import type { Pod, PodKey, PodRef, PodStatus } from '../domain/pod.js';

export interface NodeApi {
  /** The node's current labels, taints and status; undefined when it does not exist. */
  get(name: string): Promise<(NodeManifest & { readonly uid: string }) | undefined>;
  /** Creates the node with its status; returns its UID. */
  create(node: NodeManifest): Promise<string>;
  /** Strategic-merge patch of labels and taints (ORCA's own; others' survive). */
  patchMeta(node: NodeManifest): Promise<void>;
  /** Strategic-merge patch of nodes/<name>/status (conditions merge by type). */
  patchStatus(name: string, status: NodeStatus): Promise<void>;
}

export interface LeaseApi {
  /** Creates or renews the node's Lease in kube-node-lease, owned by the node. */
  renew(nodeName: string, nodeUid: string, durationSeconds: number, now: Date): Promise<void>;
}

export interface PodWriter {
  /** Strategic-merge patch of pods/<name>/status with a UID precondition; `clear` fields become null. */
  patchStatus(ref: PodRef, status: PodStatus, clear: readonly string[]): Promise<void>;
  /** The final DELETE: grace 0 and a UID precondition. Resolves when the pod is already gone. */
  deleteNow(ref: PodRef): Promise<void>;
}

export type EventType = 'Normal' | 'Warning';

export interface EventRecorder {
  /** Records a core/v1 Event on the pod; never throws (a lost event must not fail the caller). */
  podEvent(pod: Pod, type: EventType, reason: string, message: string): void;
}

/** The pods bound to this node, as a watched cache. */
export interface PodSource {
  get(key: PodKey): Pod | undefined;
  list(): readonly Pod[];
  /** Called with the key of every pod added, changed or removed. */
  onChange(handler: (key: PodKey) => void): void;
  /** Watches until `signal` aborts, restarting the watch after any error. */
  run(signal: AbortSignal): Promise<void>;
  /** Resolves once the first list has been loaded. */
  readonly synced: Promise<void>;
}

/** ConfigMaps and Secrets of the pods' namespaces, for env and volume resolution. */
export interface ConfigSource {
  /** The ConfigMap's data; undefined when it does not exist. */
  configMap(namespace: string, name: string): Promise<Readonly<Record<string, string>> | undefined>;
  /** The Secret's data, decoded; undefined when it does not exist. Values must never be logged. */
  secret(namespace: string, name: string): Promise<Readonly<Record<string, string>> | undefined>;
}

/** Extra attributes of an authenticated user (TokenReview's status.user.extra), passed on unchanged. */
export type UserExtra = Readonly<Record<string, readonly string[]>>;

/** What the apiserver says of a bearer token. */
export type TokenReviewResult =
  | {
    readonly authenticated: true;
    readonly user: { readonly username: string; readonly uid?: string; readonly groups: readonly string[]; readonly extra?: UserExtra };
  }
  | { readonly authenticated: false; readonly error?: string };

/** Authenticates bearer tokens as a kubelet does, through TokenReview. */
export interface TokenReviewer {
  /**
   * The apiserver's verdict on the token; rejects (KubeApiError) only when it could not be asked.
   * The token is a credential: implementations never log it or put it in an error.
   */
  review(token: string, signal?: AbortSignal): Promise<TokenReviewResult>;
}

/** One request to the kubelet API in the attributes the kubelet authorizes: always resource `nodes`. */
export interface AccessAttributes {
  readonly user: string;
  readonly uid?: string;
  readonly groups: readonly string[];
  readonly extra?: UserExtra;
  readonly verb: string;
  readonly resource: 'nodes';
  readonly subresource: string;
  /** The node's name. */
  readonly name: string;
}

/** Authorizes kubelet API requests as a kubelet does, through SubjectAccessReview. */
export interface AccessReviewer {
  /** allowed is false for a denial and for "no opinion"; rejects (KubeApiError) only when it could not be asked. */
  review(attrs: AccessAttributes, signal?: AbortSignal): Promise<{ readonly allowed: boolean; readonly reason?: string }>;
}
