// TokenReviewer and AccessReviewer over client-node: the two questions a kubelet in webhook mode asks
// the apiserver (POST tokenreviews, POST subjectaccessreviews). The token travels only in the
// TokenReview's body; errors carry the status and the apiserver's message, never the request.
import {
  AuthenticationV1Api, AuthorizationV1Api, Observable,
  type ConfigurationOptions, type KubeConfig, type RequestContext, type ResponseContext, type V1UserInfo,
} from '@kubernetes/client-node';
import type { AccessReviewer, TokenReviewer, TokenReviewResult, UserExtra } from '../ports/kube.js';
import { KubeApiError, statusOf } from './client.js';

/** Per-call options that abort the request with `signal`, keeping the client's own middleware. */
export function withSignal(signal: AbortSignal | undefined): ConfigurationOptions | undefined {
  if (signal === undefined) return undefined;
  return {
    middleware: [{
      pre: (ctx: RequestContext) => { ctx.setSignal(signal); return new Observable(Promise.resolve(ctx)); },
      post: (res: ResponseContext) => new Observable(Promise.resolve(res)),
    }],
    middlewareMergeStrategy: 'append',
  };
}

async function call<T>(operation: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    throw new KubeApiError(operation, statusOf(e), e);
  }
}

function toUser(u: V1UserInfo): Extract<TokenReviewResult, { authenticated: true }>['user'] {
  const extra: UserExtra | undefined = u.extra;
  return {
    username: u.username ?? '',
    groups: u.groups ?? [],
    ...(u.uid === undefined || u.uid === '' ? {} : { uid: u.uid }),
    ...(extra === undefined ? {} : { extra }),
  };
}

export function createTokenReviewer(kc: KubeConfig): TokenReviewer {
  const authn = kc.makeApiClient(AuthenticationV1Api);
  return {
    async review(token, signal) {
      const body = { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', spec: { token } };
      const { status } = await call('create token review', () => authn.createTokenReview({ body }, withSignal(signal)));
      if (status?.authenticated === true && status.user?.username !== undefined && status.user.username !== '') {
        return { authenticated: true, user: toUser(status.user) };
      }
      return status?.error === undefined || status.error === '' ? { authenticated: false } : { authenticated: false, error: status.error };
    },
  };
}

export function createAccessReviewer(kc: KubeConfig): AccessReviewer {
  const authz = kc.makeApiClient(AuthorizationV1Api);
  return {
    async review(attrs, signal) {
      const spec = {
        user: attrs.user,
        groups: [...attrs.groups],
        ...(attrs.uid === undefined ? {} : { uid: attrs.uid }),
        ...(attrs.extra === undefined ? {} : { extra: Object.fromEntries(Object.entries(attrs.extra).map(([k, v]) => [k, [...v]])) }),
        resourceAttributes: { group: '', version: 'v1', resource: attrs.resource, subresource: attrs.subresource, name: attrs.name, verb: attrs.verb },
      };
      const body = { apiVersion: 'authorization.k8s.io/v1', kind: 'SubjectAccessReview', spec };
      const { status } = await call('create subject access review', () => authz.createSubjectAccessReview({ body }, withSignal(signal)));
      const allowed = status?.allowed === true && status.denied !== true;
      return status?.reason === undefined || status.reason === '' ? { allowed } : { allowed, reason: status.reason };
    },
  };
}
