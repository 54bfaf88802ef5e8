// Pure: the WebSocket side of exec, attach and port-forward as a kubelet speaks it
// (kubelet-protocol.md §4.6, §4.7.2; apimachinery wsstream/conn.go): subprotocol negotiation, the
// channel framing (binary `[channel][payload]`, or base64 text `'0'+channel` then base64), the v5
// CLOSE signal, resize messages and the `port=` query of a port-forward.
import { err, ok, type Result } from '../../domain/result.js';
import type { TerminalSize } from '../../provider/provider.js';

/** What an upgraded connection carries. */
export type StreamKind = 'remoteCommand' | 'portForward';

/** Server lists, in the order a kubelet prefers them; `''` is "the client offered none". */
export const REMOTE_COMMAND_WS_PROTOCOLS = [
  'v5.channel.k8s.io', 'v4.channel.k8s.io', 'v4.base64.channel.k8s.io', 'channel.k8s.io', 'base64.channel.k8s.io', '',
] as const;
export const PORT_FORWARD_WS_PROTOCOLS = ['v4.channel.k8s.io', 'v4.base64.channel.k8s.io', ''] as const;

export const WS_PROTOCOLS: Readonly<Record<StreamKind, readonly string[]>> = {
  remoteCommand: REMOTE_COMMAND_WS_PROTOCOLS,
  portForward: PORT_FORWARD_WS_PROTOCOLS,
};

/** remotecommand channel numbers. */
export const RemoteChannel = { stdin: 0, stdout: 1, stderr: 2, error: 3, resize: 4 } as const;

/** First byte of a v5 CLOSE message (`[0xFF][channel]`). */
export const CLOSE_SIGNAL = 0xff;

/** Channel numbers are one byte and 255 is CLOSE, so a port-forward carries at most 127 ports (2i+1 ≤ 254). */
export const MAX_FORWARDED_PORTS = 127;

/** The WebSocket close codes a malformed message earns (RFC 6455 §7.4.1). */
export const CloseCode = { normal: 1000, goingAway: 1001, protocolError: 1002, invalidPayload: 1007, internalError: 1011 } as const;

/** Why a message from the client cannot be accepted, and the close code that says so. */
export interface Violation {
  readonly code: typeof CloseCode.protocolError | typeof CloseCode.invalidPayload;
  readonly reason: string;
}

/** How the negotiated protocol frames and ends things. */
export interface ProtocolTraits {
  /** Text frames: `'0'+channel` then the payload in base64. */
  readonly base64: boolean;
  /** v5: `[0xFF][channel]` half-closes a channel. */
  readonly closeSignal: boolean;
  /** v4 and v5: the error channel carries a Status as JSON (older ones: text). */
  readonly statusJson: boolean;
}

export function protocolTraits(protocol: string): ProtocolTraits {
  return {
    base64: protocol.includes('base64.'),
    closeSignal: protocol === 'v5.channel.k8s.io',
    statusJson: protocol.startsWith('v4.') || protocol.startsWith('v5.'),
  };
}

/** The client's Sec-WebSocket-Protocol list: every header line, comma-split, trimmed, empties dropped. */
export function offeredProtocols(header: string | readonly string[] | undefined): string[] {
  const lines = header === undefined ? [] : typeof header === 'string' ? [header] : header;
  return lines.flatMap((l) => l.split(',')).map((p) => p.trim()).filter((p) => p !== '');
}

/**
 * The first protocol the client offered that the server supports (wsstream `handshake`); none
 * offered means `''`. The error is the message a 400 carries.
 */
export function negotiateProtocol(offered: readonly string[], supported: readonly string[]): Result<string, string> {
  const wanted = offered.length === 0 ? [''] : offered;
  const pick = wanted.find((p) => supported.includes(p));
  if (pick !== undefined) return ok(pick);
  const named = supported.filter((p) => p !== '');
  return err(`requested protocol(s) are not supported: [${offered.join(' ')}]; supports [${named.join(' ')}]`);
}

// ---- framing ----------------------------------------------------------------------------------

/** One message from the server on `channel` (a string is sent as a text frame). */
export function encodeMessage(channel: number, payload: Uint8Array, base64: boolean): Buffer | string {
  if (!Number.isInteger(channel) || channel < 0 || channel >= CLOSE_SIGNAL) throw new RangeError(`channel ${String(channel)} is not 0..254`);
  if (base64) return String.fromCharCode(48 + channel) + Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength).toString('base64');
  const out = Buffer.allocUnsafe(payload.byteLength + 1);
  out[0] = channel;
  out.set(payload, 1);
  return out;
}

/** The v5 CLOSE message for `channel`. */
export function encodeClose(channel: number): Buffer {
  if (!Number.isInteger(channel) || channel < 0 || channel >= CLOSE_SIGNAL) throw new RangeError(`channel ${String(channel)} is not 0..254`);
  return Buffer.from([CLOSE_SIGNAL, channel]);
}

export type IncomingFrame =
  | { readonly kind: 'data'; readonly channel: number; readonly payload: Buffer }
  | { readonly kind: 'close'; readonly channel: number }
  /** An empty message: ignored, as wsstream does. */
  | { readonly kind: 'empty' };

const protocolError = (reason: string): Result<never, Violation> => err({ code: CloseCode.protocolError, reason });
const invalidPayload = (reason: string): Result<never, Violation> => err({ code: CloseCode.invalidPayload, reason });

/** Strict standard base64 with padding (Go's StdEncoding, which skips CR and LF). */
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

function decodeBase64Message(message: Buffer): Result<IncomingFrame, Violation> {
  const text = message.toString('utf8');
  const first = text.codePointAt(0) ?? 0;
  const channel = first - 48;
  if (channel < 0 || channel >= CLOSE_SIGNAL) return protocolError(`unknown channel character ${JSON.stringify(String.fromCodePoint(first))}`);
  const body = text.slice(String.fromCodePoint(first).length).replace(/[\r\n]/g, '');
  if (!BASE64.test(body)) return invalidPayload(`channel ${String(channel)}: payload is not valid base64`);
  return ok({ kind: 'data', channel, payload: Buffer.from(body, 'base64') });
}

/** One message from the client, as the negotiated protocol frames it. */
export function decodeMessage(message: Buffer, traits: ProtocolTraits): Result<IncomingFrame, Violation> {
  if (message.length === 0) return ok({ kind: 'empty' });
  if (traits.base64) return decodeBase64Message(message);
  const channel = message[0] ?? 0;
  if (channel !== CLOSE_SIGNAL) return ok({ kind: 'data', channel, payload: message.subarray(1) });
  if (!traits.closeSignal) return protocolError('unknown channel 255');
  if (message.length !== 2) return protocolError(`CLOSE message of ${String(message.length)} bytes (must be 2)`);
  return ok({ kind: 'close', channel: message[1] ?? 0 });
}

// ---- resize -----------------------------------------------------------------------------------

function dimension(value: unknown): number | undefined {
  if (value === undefined) return 0;
  return typeof value === 'number' && Number.isInteger(value) && value >= 0 && value <= 0xffff ? value : undefined;
}

function parseSize(text: string): TerminalSize | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  const { Width, Height } = value as { Width?: unknown; Height?: unknown };
  const cols = dimension(Width);
  const rows = dimension(Height);
  return cols === undefined || rows === undefined ? undefined : { cols, rows };
}

/**
 * The terminal sizes in one resize message: JSON objects `{"Width":…,"Height":…}` (uint16, a
 * missing field is 0), one or more separated by newlines as Go's json.Encoder writes them.
 */
export function parseResizeMessage(payload: Buffer): Result<TerminalSize[], Violation> {
  const sizes: TerminalSize[] = [];
  for (const line of payload.toString('utf8').split('\n')) {
    if (line.trim() === '') continue;
    const size = parseSize(line);
    if (size === undefined) return invalidPayload('resize: expected {"Width":<0..65535>,"Height":<0..65535>}');
    sizes.push(size);
  }
  return ok(sizes);
}

// ---- port-forward -----------------------------------------------------------------------------

/** The `port` query values of a WebSocket port-forward (repeatable, each a comma list), 1–65535. */
export function parsePorts(values: readonly string[]): Result<number[], string> {
  if (values.length === 0) return err('query parameter "port" is required');
  const ports: number[] = [];
  for (const value of values) {
    if (value === '') return err('query parameter "port" cannot be empty');
    for (const item of value.split(',')) {
      const port = /^\d{1,5}$/.test(item) ? Number(item) : NaN;
      if (!(port >= 1 && port <= 65535)) return err(`unable to parse ${JSON.stringify(item)} as a port: must be an integer 1-65535`);
      ports.push(port);
    }
  }
  if (ports.length > MAX_FORWARDED_PORTS) return err(`too many ports: ${String(ports.length)} (at most ${String(MAX_FORWARDED_PORTS)})`);
  return ok(ports);
}

/** parsePorts over a request's query string. */
export function parsePortQuery(query: URLSearchParams): Result<number[], string> {
  return parsePorts(query.getAll('port'));
}

/** The 2 bytes that open both channels of a forwarded port: the port as uint16 little-endian. */
export function portPrefix(port: number): Buffer {
  const out = Buffer.alloc(2);
  out.writeUInt16LE(port);
  return out;
}

/** The data and error channel of the i-th forwarded port. */
export const portChannels = (index: number): { readonly data: number; readonly error: number } => ({ data: 2 * index, error: 2 * index + 1 });
