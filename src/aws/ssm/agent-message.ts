// The Session Manager data channel's binary frame ("AgentMessage", shared/reference/ssm-session.md
// §2.2): a 120-byte big-endian header (HeaderLength 116, a 32-byte space-padded MessageType, a UUID
// with its halves swapped, the payload's SHA-256) and the payload, plus the small payloads every
// session uses (acknowledgement, flag, size, channel_closed). Pure: bytes in, values out; decoding
// never throws anything but a SessionError of kind 'protocol'.
import { createHash } from 'node:crypto';
import { SessionError } from '../../domain/errors.js';

/** The message types of the data channel (§2.3). */
export const MessageType = {
  input: 'input_stream_data',
  output: 'output_stream_data',
  acknowledge: 'acknowledge',
  channelClosed: 'channel_closed',
  startPublication: 'start_publication',
  pausePublication: 'pause_publication',
  agentSessionState: 'agent_session_state',
} as const;

/** The payload types of stream messages (§2.4). */
export const PayloadType = {
  none: 0,
  output: 1,
  error: 2,
  size: 3,
  parameter: 4,
  handshakeRequest: 5,
  handshakeResponse: 6,
  handshakeComplete: 7,
  encChallengeRequest: 8,
  encChallengeResponse: 9,
  flag: 10,
  stdErr: 11,
  exitCode: 12,
} as const;

/** The values a Flag payload carries (§2.5). */
export const FlagValue = {
  disconnectToPort: 1,
  terminateSession: 2,
  connectToPortError: 3,
} as const;

/** The value writers put in HeaderLength: the offset of PayloadLength, which it does not include. */
export const headerLength = 116;
/** Where the payload starts in a frame written by ORCA (HeaderLength + the 4-byte PayloadLength). */
export const payloadOffset = headerLength + 4;
const typeBytes = 32;

/** One decoded data-channel message. */
export interface AgentMessage {
  readonly messageType: string;
  readonly schemaVersion: number;
  /** Unix epoch milliseconds. */
  readonly createdDate: number;
  readonly sequenceNumber: number;
  /** Bit 0 "SYN", bit 1 "FIN"; nobody reads them on receive. */
  readonly flags: number;
  /** Lowercase hyphenated UUID. */
  readonly messageId: string;
  readonly payloadType: number;
  readonly payload: Buffer;
}

const protocolError = (message: string): SessionError => new SessionError('protocol', `malformed data-channel message: ${message}`);

const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function uuidBytes(id: string): Buffer {
  if (!uuidPattern.test(id)) throw protocolError(`message id ${JSON.stringify(id)} is not a UUID`);
  return Buffer.from(id.replaceAll('-', ''), 'hex');
}

function uuidText(bytes: Buffer): string {
  const h = bytes.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

const sha256 = (data: Uint8Array): Buffer => createHash('sha256').update(data).digest();

function checkInteger(name: string, v: number, max: number, min = 0): void {
  if (!Number.isSafeInteger(v) || v < min || v > max) throw protocolError(`${name} ${v} is out of range`);
}

function checkFields(m: AgentMessage): Buffer {
  const type = Buffer.from(m.messageType, 'utf8');
  if (type.length === 0 || type.length > typeBytes) throw protocolError(`message type ${JSON.stringify(m.messageType)} must be 1..32 bytes`);
  checkInteger('schema version', m.schemaVersion, 0xffff_ffff);
  checkInteger('created date', m.createdDate, Number.MAX_SAFE_INTEGER);
  checkInteger('sequence number', m.sequenceNumber, Number.MAX_SAFE_INTEGER, Number.MIN_SAFE_INTEGER);
  checkInteger('flags', m.flags, Number.MAX_SAFE_INTEGER);
  checkInteger('payload type', m.payloadType, 0xffff_ffff);
  return type;
}

/** The frame of `m`, exactly as the plugin writes it; throws a SessionError('protocol') on an unencodable field. */
export function encodeAgentMessage(m: AgentMessage): Buffer {
  const type = checkFields(m);
  const id = uuidBytes(m.messageId);
  const out = Buffer.alloc(payloadOffset + m.payload.length);
  out.writeUInt32BE(headerLength, 0);
  out.fill(0x20, 4, 4 + typeBytes);
  type.copy(out, 4);
  out.writeUInt32BE(m.schemaVersion, 36);
  out.writeBigUInt64BE(BigInt(m.createdDate), 40);
  out.writeBigInt64BE(BigInt(m.sequenceNumber), 48);
  out.writeBigUInt64BE(BigInt(m.flags), 56);
  id.copy(out, 64, 8, 16);
  id.copy(out, 72, 0, 8);
  sha256(m.payload).copy(out, 80);
  out.writeUInt32BE(m.payloadType, 112);
  out.writeUInt32BE(m.payload.length, headerLength);
  out.set(m.payload, payloadOffset);
  return out;
}

/** The payload's bounds per §2.2: it starts at HeaderLength + 4 and must fill the rest of the frame. */
function payloadStart(b: Buffer): number {
  if (b.length < 4) throw protocolError(`truncated: ${b.length} bytes`);
  const hl = b.readUInt32BE(0);
  if (hl < headerLength) throw protocolError(`header length ${hl} is below ${headerLength}`);
  if (b.length < hl + 4) throw protocolError(`truncated: ${b.length} bytes, the header needs ${hl + 4}`);
  const length = b.readUInt32BE(hl);
  if (b.length !== hl + 4 + length) throw protocolError(`payload length ${length} does not match the ${b.length - hl - 4} bytes after the header`);
  return hl + 4;
}

function readSafe(value: bigint, name: string): number {
  if (value > BigInt(Number.MAX_SAFE_INTEGER) || value < BigInt(Number.MIN_SAFE_INTEGER)) throw protocolError(`${name} ${value} is out of range`);
  return Number(value);
}

const unchecked: ReadonlySet<string> = new Set([MessageType.startPublication, MessageType.pausePublication]);

function validate(b: Buffer, m: AgentMessage): void {
  if (unchecked.has(m.messageType)) return;
  if (m.messageType === '') throw protocolError('empty message type');
  if (m.createdDate === 0) throw protocolError('created date is 0');
  if (m.payload.length > 0 && !sha256(m.payload).equals(b.subarray(80, 112))) throw protocolError(`payload digest mismatch (${m.messageType}, sequence ${m.sequenceNumber})`);
}

/** Reads one frame (binary or text WebSocket message). Throws only SessionError('protocol'). */
export function decodeAgentMessage(frame: Uint8Array): AgentMessage {
  const b = Buffer.from(frame.buffer, frame.byteOffset, frame.byteLength);
  const start = payloadStart(b);
  const m: AgentMessage = {
    messageType: b.toString('latin1', 4, 4 + typeBytes).replace(/^[\s\0]+|[\s\0]+$/g, ''),
    schemaVersion: b.readUInt32BE(36),
    createdDate: Number(b.readBigUInt64BE(40)),
    sequenceNumber: readSafe(b.readBigInt64BE(48), 'sequence number'),
    flags: Number(b.readBigUInt64BE(56)),
    messageId: uuidText(Buffer.concat([b.subarray(72, 80), b.subarray(64, 72)])),
    payloadType: b.readUInt32BE(112),
    payload: Buffer.from(b.subarray(start)),
  };
  validate(b, m);
  return m;
}

function parseJson(payload: Uint8Array, what: string): unknown {
  try {
    return JSON.parse(Buffer.from(payload).toString('utf8'));
  } catch (e) {
    throw new SessionError('protocol', `malformed ${what}: not JSON`, { cause: e });
  }
}

/** A JSON object payload, or a SessionError('protocol') naming `what`. */
export function parseJsonObject(payload: Uint8Array, what: string): Readonly<Record<string, unknown>> {
  const value = parseJson(payload, what);
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new SessionError('protocol', `malformed ${what}: not a JSON object`);
  return value as Record<string, unknown>;
}

/** What an acknowledgement names (matched by sequence number only, as both ends do). */
export interface Acknowledgement {
  readonly messageType: string;
  readonly messageId: string;
  readonly sequenceNumber: number;
}

/** The acknowledgement payload JSON (§2.6). */
export function encodeAcknowledgement(a: Acknowledgement): Buffer {
  return Buffer.from(JSON.stringify({
    AcknowledgedMessageType: a.messageType, AcknowledgedMessageId: a.messageId, AcknowledgedMessageSequenceNumber: a.sequenceNumber, IsSequentialMessage: true,
  }), 'utf8');
}

export function decodeAcknowledgement(payload: Uint8Array): Acknowledgement {
  const o = parseJsonObject(payload, 'acknowledgement');
  const seq = o['AcknowledgedMessageSequenceNumber'];
  if (typeof seq !== 'number' || !Number.isSafeInteger(seq)) throw new SessionError('protocol', 'malformed acknowledgement: no sequence number');
  const type = o['AcknowledgedMessageType'];
  const id = o['AcknowledgedMessageId'];
  return { messageType: typeof type === 'string' ? type : '', messageId: typeof id === 'string' ? id : '', sequenceNumber: seq };
}

/** The `acknowledge` message for `m` (sequence 0, flags 3, payload type 0, as the plugin sends it). */
export function acknowledgementOf(m: AgentMessage, id: { readonly messageId: string; readonly createdDate: number }): AgentMessage {
  return {
    messageType: MessageType.acknowledge, schemaVersion: 1, createdDate: id.createdDate, sequenceNumber: 0, flags: 3, messageId: id.messageId,
    payloadType: PayloadType.none, payload: encodeAcknowledgement({ messageType: m.messageType, messageId: m.messageId, sequenceNumber: m.sequenceNumber }),
  };
}

/** A Flag payload: one uint32 BE. */
export function encodeFlag(flag: number): Buffer {
  checkInteger('flag', flag, 0xffff_ffff);
  const b = Buffer.alloc(4);
  b.writeUInt32BE(flag, 0);
  return b;
}

export function decodeFlag(payload: Uint8Array): number {
  if (payload.length !== 4) throw new SessionError('protocol', `malformed flag payload: ${payload.length} bytes, expected 4`);
  return Buffer.from(payload).readUInt32BE(0);
}

/** A Size payload (terminal columns and rows). */
export function encodeSize(cols: number, rows: number): Buffer {
  checkInteger('columns', cols, 0xffff_ffff);
  checkInteger('rows', rows, 0xffff_ffff);
  return Buffer.from(JSON.stringify({ cols, rows }), 'utf8');
}

/** The human-readable reason a `channel_closed` message carries ('' when none or unreadable). */
export function channelClosedReason(payload: Uint8Array): string {
  if (payload.length === 0) return '';
  try {
    const output = parseJsonObject(payload, 'channel_closed')['Output'];
    return typeof output === 'string' ? output : '';
  } catch {
    return '';
  }
}
