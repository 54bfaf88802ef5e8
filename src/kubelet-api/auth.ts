// Who calls the kubelet API and whether they may, decided as a kubelet in webhook mode decides it:
// a client certificate the TLS layer verified against the client CA, else a bearer token through
// TokenReview, else anonymous (only when allowed); then one SubjectAccessReview on nodes/<subresource>
// of this node. Both answers are cached for the kubelet's default times. No HTTP here: the server
// turns the outcomes into responses (unauthenticated → 401, forbidden → 403, error → see AuthError).
import { createHash } from 'node:crypto';
import type { Clock } from '../ports/clock.js';
import type { AccessReviewer, TokenReviewer, TokenReviewResult, UserExtra } from '../ports/kube.js';
import {
  authorizationErrorText, forbiddenText, requestAttributes, unauthorizedText, type KubeletSubresource, type KubeletVerb,
} from './authz.js';

export interface KubeletIdentity {
  readonly user: string;
  readonly uid?: string;
  readonly groups: readonly string[];
  readonly extra?: UserExtra;
  /** How the caller proved who it is. */
  readonly via: 'x509' | 'token' | 'anonymous';
}

/** A client certificate's subject: user = CN, groups = O. */
export interface X509Identity { readonly user: string; readonly groups: readonly string[] }

export interface Credentials {
  /** Present only when the TLS layer verified the client certificate against the client CA. */
  readonly x509?: X509Identity;
  /** The request's Authorization header as sent. */
  readonly authorization?: string;
}

/**
 * TokenReview or SubjectAccessReview could not be asked. Not cached. The kubelet answers an
 * authorization error with 500 and `message`; an authentication error with 401 `Unauthorized`.
 */
export interface AuthError {
  readonly kind: 'error';
  readonly stage: 'authentication' | 'authorization';
  readonly message: string;
  /** A KubeApiError (status and the apiserver's message only), for the log. */
  readonly cause: unknown;
}

export interface AuthOk { readonly kind: 'ok'; readonly identity: KubeletIdentity }

export type AuthnOutcome =
  | AuthOk
  /** `reason` is TokenReview's status.error, for the log. */
  | { readonly kind: 'unauthenticated'; readonly message: string; readonly reason?: string }
  | AuthError;

export type AuthzOutcome =
  | AuthOk
  /** `message` is the kubelet's 403 text; `reason` is the authorizer's, for the log. */
  | { readonly kind: 'forbidden'; readonly message: string; readonly reason?: string }
  | AuthError;

export type AuthOutcome = AuthnOutcome | AuthzOutcome;

export interface AuthCacheSettings {
  /** A token TokenReview accepted (the kubelet's webhook default: 2 min). */
  readonly tokenSuccessTtlMs: number;
  /** A token TokenReview rejected (30 s). */
  readonly tokenFailureTtlMs: number;
  /** An allowed SubjectAccessReview (5 min). */
  readonly allowTtlMs: number;
  /** A denied SubjectAccessReview (30 s). */
  readonly denyTtlMs: number;
  /** Entries each cache keeps at most; the least recently used goes first. */
  readonly maxEntries: number;
}

export const defaultAuthCacheSettings: AuthCacheSettings = Object.freeze({
  tokenSuccessTtlMs: 120_000, tokenFailureTtlMs: 30_000, allowTtlMs: 300_000, denyTtlMs: 30_000, maxEntries: 10_000,
});

export interface KubeletAuthDeps {
  readonly tokens: TokenReviewer;
  readonly access: AccessReviewer;
  readonly clock: Clock;
  /** The node whose API this is: the name in every SubjectAccessReview. */
  readonly nodeName: string;
  /** Requests without credentials are system:anonymous (group system:unauthenticated) instead of 401. Default false. */
  readonly allowAnonymous?: boolean;
  readonly cache?: Partial<AuthCacheSettings>;
}

/** A map whose entries expire on the clock; it keeps at most `max` of them, dropping the least recently used. */
class TtlCache<V> {
  readonly #entries = new Map<string, { readonly value: V; readonly expires: number }>();
  readonly #clock: Clock;
  readonly #max: number;

  constructor(clock: Clock, max: number) {
    this.#clock = clock;
    this.#max = Math.max(1, max);
  }

  get(key: string): V | undefined {
    const entry = this.#entries.get(key);
    if (entry === undefined) return undefined;
    this.#entries.delete(key);
    if (entry.expires <= this.#clock.now().getTime()) return undefined;
    this.#entries.set(key, entry);
    return entry.value;
  }

  set(key: string, value: V, ttlMs: number): void {
    this.#entries.delete(key);
    this.#entries.set(key, { value, expires: this.#clock.now().getTime() + ttlMs });
    for (const oldest of this.#entries.keys()) {
      if (this.#entries.size <= this.#max) break;
      this.#entries.delete(oldest);
    }
  }
}

const authenticatedGroup = 'system:authenticated';
const anonymous: KubeletIdentity = Object.freeze({ user: 'system:anonymous', groups: Object.freeze(['system:unauthenticated']), via: 'anonymous' });

/** The token of an `Authorization: Bearer <token>` header, read as the apiserver's bearer-token authenticator reads it. */
export function bearerToken(header: string | undefined): string | undefined {
  const parts = (header ?? '').trim().split(' ');
  if (parts.length < 2 || parts[0]?.toLowerCase() !== 'bearer') return undefined;
  const token = parts[1] ?? '';
  return token === '' ? undefined : token;
}

/** As the apiserver's authenticators do, every authenticated user is in system:authenticated. */
function withAuthenticatedGroup(groups: readonly string[]): readonly string[] {
  return groups.includes(authenticatedGroup) || groups.includes('system:unauthenticated') ? groups : [...groups, authenticatedGroup];
}

function fromTokenUser(user: Extract<TokenReviewResult, { authenticated: true }>['user']): KubeletIdentity {
  return {
    user: user.username,
    groups: withAuthenticatedGroup(user.groups),
    ...(user.uid === undefined ? {} : { uid: user.uid }),
    ...(user.extra === undefined ? {} : { extra: user.extra }),
    via: 'token',
  };
}

const unauthenticated = (reason?: string): AuthnOutcome =>
  (reason === undefined ? { kind: 'unauthenticated', message: unauthorizedText } : { kind: 'unauthenticated', message: unauthorizedText, reason });

/** The cache key of a token: its digest, so no cache or heap dump holds a usable token as a key. */
const tokenKey = (token: string): string => createHash('sha256').update(token).digest('hex');

/** Everything a SubjectAccessReview's answer can depend on, except the node name (always this node). */
function accessKey(identity: KubeletIdentity, verb: KubeletVerb, subresource: KubeletSubresource): string {
  const extra = Object.entries(identity.extra ?? {}).map(([k, v]) => [k, [...v].sort()] as const).sort(([a], [b]) => a.localeCompare(b));
  return JSON.stringify([identity.user, identity.uid ?? '', [...identity.groups].sort(), extra, verb, subresource]);
}

interface AccessDecision { readonly allowed: boolean; readonly reason?: string }

export class KubeletAuth {
  readonly #deps: KubeletAuthDeps;
  readonly #settings: AuthCacheSettings;
  readonly #tokens: TtlCache<AuthnOutcome>;
  readonly #decisions: TtlCache<AccessDecision>;

  constructor(deps: KubeletAuthDeps) {
    this.#deps = deps;
    this.#settings = { ...defaultAuthCacheSettings, ...deps.cache };
    this.#tokens = new TtlCache(deps.clock, this.#settings.maxEntries);
    this.#decisions = new TtlCache(deps.clock, this.#settings.maxEntries);
  }

  /** Who the caller is: the verified client certificate first, else the bearer token, else anonymous when allowed. */
  async authenticate(credentials: Credentials, signal?: AbortSignal): Promise<AuthnOutcome> {
    const cert = credentials.x509;
    if (cert !== undefined && cert.user !== '') {
      return { kind: 'ok', identity: { user: cert.user, groups: withAuthenticatedGroup(cert.groups), via: 'x509' } };
    }
    const token = bearerToken(credentials.authorization);
    if (token !== undefined) return this.#reviewToken(token, signal);
    return this.#deps.allowAnonymous === true ? { kind: 'ok', identity: anonymous } : unauthenticated();
  }

  /**
   * Whether `identity` may make this request (method and path, a query is ignored) of this node:
   * allowed when any of the path's subresources is, asked in order (fine-grained first, then proxy).
   */
  async authorize(identity: KubeletIdentity, method: string, path: string, signal?: AbortSignal): Promise<AuthzOutcome> {
    const attrs = requestAttributes(method, path);
    const { verb } = attrs;
    if (verb === undefined) return { kind: 'forbidden', message: forbiddenText(identity.user, attrs) };
    let reason: string | undefined;
    for (const subresource of attrs.subresources) {
      let decision: AccessDecision;
      try {
        decision = await this.#decide(identity, verb, subresource, signal);
      } catch (cause) {
        return { kind: 'error', stage: 'authorization', message: authorizationErrorText(identity.user, verb, subresource), cause };
      }
      if (decision.allowed) return { kind: 'ok', identity };
      reason ??= decision.reason;
    }
    const message = forbiddenText(identity.user, attrs);
    return reason === undefined ? { kind: 'forbidden', message } : { kind: 'forbidden', message, reason };
  }

  /** One SubjectAccessReview's answer, cached (allowed 5 min, denied 30 s). */
  async #decide(identity: KubeletIdentity, verb: KubeletVerb, subresource: KubeletSubresource, signal: AbortSignal | undefined): Promise<AccessDecision> {
    const key = accessKey(identity, verb, subresource);
    const cached = this.#decisions.get(key);
    if (cached !== undefined) return cached;
    const decision = await this.#reviewAccess(identity, verb, subresource, signal);
    this.#decisions.set(key, decision, decision.allowed ? this.#settings.allowTtlMs : this.#settings.denyTtlMs);
    return decision;
  }

  /** authenticate, then authorize: the outcome the server answers a request with. */
  async check(credentials: Credentials, method: string, path: string, signal?: AbortSignal): Promise<AuthOutcome> {
    const authn = await this.authenticate(credentials, signal);
    return authn.kind === 'ok' ? this.authorize(authn.identity, method, path, signal) : authn;
  }

  async #reviewToken(token: string, signal: AbortSignal | undefined): Promise<AuthnOutcome> {
    const key = tokenKey(token);
    const cached = this.#tokens.get(key);
    if (cached !== undefined) return cached;
    let result: TokenReviewResult;
    try {
      result = await this.#deps.tokens.review(token, signal);
    } catch (cause) {
      return { kind: 'error', stage: 'authentication', message: 'Authentication error', cause };
    }
    const outcome: AuthnOutcome = result.authenticated ? { kind: 'ok', identity: fromTokenUser(result.user) } : unauthenticated(result.error);
    this.#tokens.set(key, outcome, result.authenticated ? this.#settings.tokenSuccessTtlMs : this.#settings.tokenFailureTtlMs);
    return outcome;
  }

  #reviewAccess(identity: KubeletIdentity, verb: KubeletVerb, subresource: KubeletSubresource, signal: AbortSignal | undefined): Promise<AccessDecision> {
    return this.#deps.access.review({
      user: identity.user,
      groups: identity.groups,
      ...(identity.uid === undefined ? {} : { uid: identity.uid }),
      ...(identity.extra === undefined ? {} : { extra: identity.extra }),
      verb,
      resource: 'nodes',
      subresource,
      name: this.#deps.nodeName,
    }, signal);
  }
}
