// KubeDoctorProbe over client-node: SelfSubjectAccessReview for each permission ORCA needs, and a
// BurstBudget list for the CRD. A failure to reach the apiserver (refused, DNS, TLS) or a rejected
// credential is a StartupError; anything else is passed on (it may be transient).
import { AuthorizationV1Api, type KubeConfig } from '@kubernetes/client-node';
import { StartupError } from '../domain/errors.js';
import type { KubeDoctorProbe } from '../ports/preflight.js';
import { listBudgets } from './budget-api.js';
import { KubeApiError, describeError, statusOf } from './client.js';
import { withSignal } from './review-api.js';

const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'EPROTO']);

/** The system or TLS error code under a node-fetch error (its `code`, or its cause's). */
function codeOf(err: unknown): string | undefined {
  const e = err as { code?: unknown; cause?: { code?: unknown } } | null;
  if (typeof e?.code === 'string') return e.code;
  return typeof e?.cause?.code === 'string' ? e.cause.code : undefined;
}

const isTlsCode = (code: string): boolean => /CERT|SELF_SIGNED|UNABLE_TO_|TLS|SSL|ALTNAME/.test(code);

/** The StartupError `err` amounts to, or undefined when it may be transient. */
export function classifyKubeFailure(err: unknown, server: string): StartupError | undefined {
  const code = codeOf(err);
  const status = statusOf(err);
  const detail = describeError(err);
  if (status === 401) {
    return new StartupError('kube-unauthorized', `the apiserver ${server} rejected the kubeconfig's credentials (HTTP 401)`, 'renew the token or client certificate of the kubeconfig (kubectl get --raw /version with it tells)');
  }
  if (code !== undefined && isTlsCode(code)) {
    return new StartupError('apiserver-unreachable', `cannot verify the apiserver ${server}'s TLS certificate (${code})`, 'give the kubeconfig the cluster\'s certificate-authority, or reach the apiserver by a name its certificate holds');
  }
  if ((code !== undefined && NETWORK_CODES.has(code)) || detail.startsWith('HTTP protocol is not allowed')) {
    return new StartupError('apiserver-unreachable', `cannot reach the apiserver ${server} (${code ?? detail})`, 'check the server address in the kubeconfig (or --kubeconfig), and that the apiserver runs and this host can reach it');
  }
  return undefined;
}

export function createKubeProbe(kc: KubeConfig): KubeDoctorProbe {
  const authz = kc.makeApiClient(AuthorizationV1Api);
  const server = kc.getCurrentCluster()?.server ?? '(none)';
  const rethrow = (operation: string, e: unknown): never => {
    throw classifyKubeFailure(e, server) ?? new KubeApiError(operation, statusOf(e), e);
  };
  return {
    async can(p, signal) {
      const resourceAttributes = {
        group: p.group, resource: p.resource, verb: p.verb,
        ...(p.subresource === undefined ? {} : { subresource: p.subresource }), ...(p.namespace === undefined ? {} : { namespace: p.namespace }),
      };
      const body = { apiVersion: 'authorization.k8s.io/v1', kind: 'SelfSubjectAccessReview', spec: { resourceAttributes } };
      try {
        const { status } = await authz.createSelfSubjectAccessReview({ body }, withSignal(signal));
        return status?.allowed === true && status.denied !== true;
      } catch (e) {
        return rethrow('create self subject access review', e);
      }
    },
    async budgetCrdInstalled() {
      try {
        await listBudgets(kc);
        return true;
      } catch (e) {
        if (e instanceof KubeApiError && e.status === 404) return false;
        throw e;
      }
    },
  };
}
