// The pod as ORCA's core sees it: the JSON shape of a Kubernetes v1 Pod, trimmed to the fields ORCA
// reads or writes. Timestamps are RFC 3339 strings. The k8s/ adapter converts to and from the wire.

export type PodKey = string & { readonly __brand: 'PodKey' };

export const podKey = (namespace: string, name: string): PodKey => `${namespace}/${name}` as PodKey;

/** The namespace and name a key was made of (podKey's inverse; names and namespaces hold no '/'). */
export function parsePodKey(key: PodKey): { readonly namespace: string; readonly name: string } {
  const slash = key.indexOf('/');
  return slash < 0 ? { namespace: '', name: key } : { namespace: key.slice(0, slash), name: key.slice(slash + 1) };
}

export interface ResourceList { readonly [name: string]: string }

export interface ContainerSpec {
  readonly name: string;
  readonly image?: string;
  readonly command?: readonly string[];
  readonly args?: readonly string[];
  readonly workingDir?: string;
  readonly env?: readonly EnvVar[];
  readonly envFrom?: readonly EnvFromSource[];
  readonly resources?: { readonly requests?: ResourceList; readonly limits?: ResourceList };
  readonly volumeMounts?: readonly VolumeMount[];
  readonly ports?: readonly { readonly containerPort: number; readonly protocol?: string; readonly name?: string }[];
  readonly securityContext?: SecurityContext;
  /** Keep the container's stdin open (`kubectl attach -i`). */
  readonly stdin?: boolean;
  /** Give the container a terminal (`kubectl attach -t`). */
  readonly tty?: boolean;
}

export interface VolumeMount { readonly name: string; readonly mountPath: string; readonly readOnly?: boolean; readonly subPath?: string }

export interface SecurityContext {
  readonly runAsUser?: number;
  readonly runAsGroup?: number;
  readonly privileged?: boolean;
  readonly readOnlyRootFilesystem?: boolean;
  readonly capabilities?: { readonly add?: readonly string[]; readonly drop?: readonly string[] };
}

export interface KeyToPath { readonly key: string; readonly path: string; readonly mode?: number }

/** A pod volume. Only the kinds a burst instance can provide are spelled out; any other key is another kind. */
export interface Volume {
  readonly name: string;
  readonly emptyDir?: { readonly medium?: string; readonly sizeLimit?: string };
  readonly configMap?: { readonly name: string; readonly items?: readonly KeyToPath[]; readonly optional?: boolean; readonly defaultMode?: number };
  readonly secret?: { readonly secretName: string; readonly items?: readonly KeyToPath[]; readonly optional?: boolean; readonly defaultMode?: number };
  readonly downwardAPI?: { readonly items?: readonly { readonly path: string; readonly fieldRef?: { readonly fieldPath: string }; readonly mode?: number }[]; readonly defaultMode?: number };
  readonly projected?: { readonly sources?: readonly Readonly<Record<string, unknown>>[] };
  readonly [kind: string]: unknown;
}

export interface EnvVar {
  readonly name: string;
  readonly value?: string;
  readonly valueFrom?: {
    readonly configMapKeyRef?: KeyRef;
    readonly secretKeyRef?: KeyRef;
    readonly fieldRef?: { readonly fieldPath: string };
  };
}

export interface KeyRef { readonly name: string; readonly key: string; readonly optional?: boolean }

export interface EnvFromSource {
  readonly prefix?: string;
  readonly configMapRef?: { readonly name: string; readonly optional?: boolean };
  readonly secretRef?: { readonly name: string; readonly optional?: boolean };
}

export type RestartPolicy = 'Always' | 'OnFailure' | 'Never';

export interface PodSpec {
  readonly nodeName?: string;
  readonly containers: readonly ContainerSpec[];
  readonly initContainers?: readonly ContainerSpec[];
  readonly restartPolicy?: RestartPolicy;
  readonly terminationGracePeriodSeconds?: number;
  readonly serviceAccountName?: string;
  readonly volumes?: readonly Volume[];
  readonly imagePullSecrets?: readonly { readonly name: string }[];
  /** The value of the pod's PriorityClass (set by the apiserver's admission). */
  readonly priority?: number;
  readonly activeDeadlineSeconds?: number;
}

export interface ContainerState {
  readonly waiting?: { readonly reason?: string; readonly message?: string };
  readonly running?: { readonly startedAt?: string };
  readonly terminated?: {
    readonly exitCode: number;
    readonly signal?: number;
    readonly reason?: string;
    readonly message?: string;
    readonly startedAt?: string;
    readonly finishedAt?: string;
    readonly containerID?: string;
  };
}

export interface ContainerStatus {
  readonly name: string;
  readonly ready: boolean;
  readonly restartCount: number;
  readonly image: string;
  readonly imageID: string;
  readonly containerID?: string;
  readonly started?: boolean;
  readonly state?: ContainerState;
  readonly lastState?: ContainerState;
}

export interface PodCondition {
  readonly type: string;
  readonly status: 'True' | 'False' | 'Unknown';
  readonly reason?: string;
  readonly message?: string;
  readonly lastTransitionTime?: string;
  readonly lastProbeTime?: string | null;
}

export type PodPhase = 'Pending' | 'Running' | 'Succeeded' | 'Failed' | 'Unknown';

export interface PodStatus {
  readonly phase?: PodPhase;
  readonly reason?: string;
  readonly message?: string;
  readonly conditions?: readonly PodCondition[];
  readonly hostIP?: string;
  readonly hostIPs?: readonly { readonly ip: string }[];
  readonly podIP?: string;
  readonly podIPs?: readonly { readonly ip: string }[];
  readonly startTime?: string;
  readonly containerStatuses?: readonly ContainerStatus[];
  readonly initContainerStatuses?: readonly ContainerStatus[];
}

export interface PodMeta {
  readonly namespace: string;
  readonly name: string;
  readonly uid: string;
  readonly resourceVersion?: string;
  readonly creationTimestamp?: string;
  readonly deletionTimestamp?: string;
  readonly deletionGracePeriodSeconds?: number;
  readonly labels?: Readonly<Record<string, string>>;
  readonly annotations?: Readonly<Record<string, string>>;
}

export interface Pod {
  readonly metadata: PodMeta;
  readonly spec: PodSpec;
  readonly status?: PodStatus;
}

/** What identifies one pod across the API and the provider: its key and its UID. */
export interface PodRef {
  readonly key: PodKey;
  readonly uid: string;
}

export const refOf = (pod: Pod): PodRef => ({ key: podKey(pod.metadata.namespace, pod.metadata.name), uid: pod.metadata.uid });

export const isTerminalPhase = (phase: PodPhase | undefined): boolean => phase === 'Succeeded' || phase === 'Failed';
