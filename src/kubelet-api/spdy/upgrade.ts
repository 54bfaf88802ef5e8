// Pure: the SPDY/3.1 upgrade a kubelet performs (kubelet-protocol.md §4.3; apimachinery
// httpstream.Handshake then spdy.ResponseUpgrader, in that order): negotiate X-Stream-Protocol-Version
// by walking the client's list in order, check Connection/Upgrade, and build the 101 response head.

type RequestHeaders = Readonly<Record<string, string | readonly string[] | undefined>>;

/** Server protocol lists (§4.3): v5 is v4 on SPDY. */
export const REMOTE_COMMAND_PROTOCOLS = ['v5.channel.k8s.io', 'v4.channel.k8s.io', 'v3.channel.k8s.io', 'v2.channel.k8s.io', 'channel.k8s.io'] as const;
export const PORT_FORWARD_PROTOCOLS = ['portforward.k8s.io'] as const;

export type UpgradeDecision =
  | { readonly kind: 'upgrade'; readonly protocol: string; readonly responseHead: Buffer }
  | {
    readonly kind: 'refuse';
    readonly status: 400 | 403;
    readonly message: string;
    /** Extra response headers, in order; a name may repeat. */
    readonly headers: readonly (readonly [string, string])[];
  };

/** Every line of a header, looked up case-insensitively (Node lowercases names; raw maps may not). */
function lines(headers: RequestHeaders, name: string): string[] {
  const out: string[] = [];
  for (const [k, v] of Object.entries(headers)) {
    if (k.toLowerCase() !== name || v === undefined) continue;
    out.push(...(typeof v === 'string' ? [v] : v));
  }
  return out;
}

/** All lines, comma-split, trimmed, empties dropped (apimachinery commaSeparatedHeaderValues). */
function listOf(headers: RequestHeaders, name: string): string[] {
  return lines(headers, name).flatMap((l) => l.split(',')).map((p) => p.trim()).filter((p) => p !== '');
}

const contains = (headers: RequestHeaders, name: string, token: string): boolean =>
  lines(headers, name).some((l) => l.toLowerCase().includes(token));

const goList = (l: readonly string[]): string => `[${l.join(' ')}]`;

function refuse(status: 400 | 403, message: string, headers: readonly (readonly [string, string])[] = []): UpgradeDecision {
  return { kind: 'refuse', status, message, headers };
}

/** The 101 that switches the connection to SPDY/3.1 with the negotiated protocol. */
export function switchingProtocolsHead(protocol: string): Buffer {
  if (/[\r\n]/.test(protocol)) throw new RangeError('a stream protocol must not contain CR or LF');
  return Buffer.from(
    `HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: SPDY/3.1\r\nX-Stream-Protocol-Version: ${protocol}\r\n\r\n`,
    'latin1',
  );
}

/**
 * Decide a SPDY upgrade request. `supported` is the server's list (non-empty); the first protocol in
 * the client's list that the server supports wins.
 */
export function negotiateUpgrade(headers: RequestHeaders, supported: readonly string[]): UpgradeDecision {
  if (supported.length === 0) throw new RangeError('negotiateUpgrade needs at least one supported protocol');
  const offered = listOf(headers, 'x-stream-protocol-version');
  if (offered.length === 0) return refuse(400, 'unable to upgrade: X-Stream-Protocol-Version is required');
  const protocol = offered.find((p) => supported.includes(p));
  if (protocol === undefined) {
    return refuse(
      403,
      `unable to upgrade: unable to negotiate protocol: client supports ${goList(offered)}, server accepts ${goList(supported)}`,
      supported.map((p) => ['X-Accepted-Stream-Protocol-Versions', p] as const),
    );
  }
  if (!contains(headers, 'connection', 'upgrade') || !contains(headers, 'upgrade', 'spdy/3.1')) {
    return refuse(400, 'unable to upgrade: missing upgrade headers in request');
  }
  return { kind: 'upgrade', protocol, responseHead: switchingProtocolsHead(protocol) };
}
