// The kubelet's authorization attributes for a request to its API, and the texts it answers with
// when a request is refused. Pure: the mapping of k/k pkg/kubelet/server/auth.go with fine-grained
// kubelet authorization (KubeletFineGrainedAuthz, on since 1.33): /pods, /runningpods/, /healthz and
// /configz are asked first as their own subresource (nodes/pods, nodes/healthz, nodes/configz), then
// as proxy, so a caller allowed either is served.

export type KubeletVerb = 'get' | 'create' | 'update' | 'patch' | 'delete';
export type KubeletSubresource = 'stats' | 'metrics' | 'log' | 'spec' | 'proxy' | 'pods' | 'healthz' | 'configz';

const verbByMethod: ReadonlyMap<string, KubeletVerb> = new Map<string, KubeletVerb>([
  ['GET', 'get'], ['HEAD', 'get'], ['POST', 'create'], ['PUT', 'update'], ['PATCH', 'patch'], ['DELETE', 'delete'],
]);

/** The verb the kubelet asks for an HTTP method; undefined for a method it has no verb for (OPTIONS, TRACE, …). */
export function verbFor(method: string): KubeletVerb | undefined {
  return verbByMethod.get(method.toUpperCase());
}

/** Paths whose subtree has a subresource of its own; every other path is `proxy`. Checked in this order. */
const subtrees: readonly (readonly [string, KubeletSubresource])[] = [
  ['/stats', 'stats'], ['/metrics', 'metrics'], ['/logs', 'log'], ['/spec', 'spec'],
];

/** Fine-grained: paths asked first as their own subresource, then as proxy. */
const fineGrained: readonly (readonly [string, KubeletSubresource])[] = [
  ['/pods', 'pods'], ['/runningpods', 'pods'], ['/healthz', 'healthz'], ['/configz', 'configz'],
];

const under = (path: string, root: string): boolean => path === root || path.startsWith(`${root}/`);

/**
 * A path whose meaning a router might change by normalising it (dot segments, empty segments,
 * percent-encoding, backslashes) gets the broadest subresource, so that no spelling of a path
 * reaches a route with less than that route needs.
 */
function isPlain(path: string): boolean {
  if (!path.startsWith('/') || /[%\\]/.test(path)) return false;
  return path.split('/').slice(1, -1).every((s) => s !== '' && s !== '.' && s !== '..')
    && !/\/\.{1,2}$/.test(path);
}

/** The subresources the kubelet asks for a request path, in order (the query, if any, is ignored). */
export function subresourcesFor(url: string): readonly KubeletSubresource[] {
  const path = url.split(/[?#]/, 1)[0] ?? '';
  if (!isPlain(path)) return ['proxy'];
  const trimmed = path.endsWith('/') ? path.slice(0, -1) : path;
  const own = subtrees.find(([root]) => under(trimmed, root));
  if (own !== undefined) return [own[1]];
  const fine = fineGrained.find(([root]) => under(trimmed, root));
  return fine === undefined ? ['proxy'] : [fine[1], 'proxy'];
}

/** What the kubelet authorizes for one request, without the caller: allowed when any subresource is. */
export interface RequestAttributes {
  /** undefined when the method has no verb: such a request is refused without asking. */
  readonly verb: KubeletVerb | undefined;
  readonly subresources: readonly KubeletSubresource[];
}

export function requestAttributes(method: string, url: string): RequestAttributes {
  return { verb: verbFor(method), subresources: subresourcesFor(url) };
}

/** The kubelet's 401 body. */
export const unauthorizedText = 'Unauthorized';

/**
 * The kubelet's 403 body (k/k pkg/kubelet/server/server.go, InstallAuthFilter), without the newline
 * the kubelet ends it with.
 */
export function forbiddenText(user: string, attrs: RequestAttributes): string {
  return `Forbidden (user=${user}, verb=${attrs.verb ?? ''}, resource=nodes, subresource(s)=[${attrs.subresources.join(' ')}])`;
}

/** The kubelet's 500 body when the authorizer could not be asked about `subresource`. */
export function authorizationErrorText(user: string, verb: KubeletVerb | undefined, subresource: KubeletSubresource): string {
  return `Authorization error (user=${user}, verb=${verb ?? ''}, resource=nodes, subresource=${subresource})`;
}
