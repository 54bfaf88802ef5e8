// Test double of AWS Session Manager: the binary "AgentMessage" frame of the SSM data channel, as the
// stand-in (playing the Message Gateway Service and the on-instance SSM agent) reads and writes it.
// Written for the test bed only and deliberately separate from ORCA's own client codec, so that a
// shared mistake cannot hide itself. Layout: a 120-byte header of big-endian integers (HeaderLength
// 116, a 32-byte space-padded type, schema version, created ms, sequence, flags, the MessageId with
// its two 8-byte halves swapped, the SHA-256 of the payload, payload type, payload length), then the payload.
import { createHash, randomUUID } from 'node:crypto';

/** Writers put 116 here: the offset of PayloadLength, which the header length excludes. */
export const HEADER_LENGTH = 116;
const typeBytes = 32;

/** Message types of the data channel. */
export const MessageType = {
  input: 'input_stream_data',
  output: 'output_stream_data',
  ack: 'acknowledge',
  channelClosed: 'channel_closed',
  startPublication: 'start_publication',
  pausePublication: 'pause_publication',
} as const;

/** Payload types of stream messages. */
export const PayloadType = {
  none: 0,
  output: 1,
  size: 3,
  handshakeRequest: 5,
  handshakeResponse: 6,
  handshakeComplete: 7,
  flag: 10,
} as const;

/** Values of a Flag payload (a uint32 BE). */
export const FlagValue = { disconnectToPort: 1, terminateSession: 2, connectToPortError: 3 } as const;

/** One decoded frame. Sequence numbers and flags fit in a JS number in any session a test runs. */
export interface AgentMessage {
  readonly messageType: string;
  readonly schemaVersion: number;
  readonly createdDate: number;
  readonly sequenceNumber: number;
  readonly flags: number;
  readonly messageId: string;
  readonly payloadType: number;
  readonly payload: Buffer;
}

/** A frame too broken to read at all. */
export class FrameError extends Error {
  readonly code = 'SSM_STAND_IN_BAD_FRAME';
}

/** A decoded frame, and what was wrong with it that a real peer would tolerate or reject. */
export interface Decoded {
  readonly message: AgentMessage;
  readonly problems: readonly string[];
}

function uuidBytes(id: string): Buffer {
  const hex = id.replace(/-/g, '');
  if (!/^[0-9a-fA-F]{32}$/.test(hex)) throw new FrameError(`not a UUID: ${id}`);
  return Buffer.from(hex, 'hex');
}

function uuidText(b: Buffer): string {
  const h = b.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/** Builds a message with the defaults every writer uses: schema 1, now, a fresh id. */
export function message(fields: Partial<AgentMessage> & Pick<AgentMessage, 'messageType'>): AgentMessage {
  return {
    schemaVersion: 1, createdDate: Date.now(), sequenceNumber: 0, flags: 0, messageId: randomUUID(),
    payloadType: PayloadType.none, payload: Buffer.alloc(0), ...fields,
  };
}

/** Encodes one frame. */
export function encode(m: AgentMessage): Buffer {
  const out = Buffer.alloc(HEADER_LENGTH + 4 + m.payload.length);
  out.writeUInt32BE(HEADER_LENGTH, 0);
  out.fill(0x20, 4, 4 + typeBytes);
  out.write(m.messageType.slice(0, typeBytes), 4, 'ascii');
  out.writeUInt32BE(m.schemaVersion, 36);
  out.writeBigUInt64BE(BigInt(m.createdDate), 40);
  out.writeBigInt64BE(BigInt(m.sequenceNumber), 48);
  out.writeBigUInt64BE(BigInt(m.flags), 56);
  const id = uuidBytes(m.messageId);
  id.copy(out, 64, 8, 16);
  id.copy(out, 72, 0, 8);
  createHash('sha256').update(m.payload).digest().copy(out, 80);
  out.writeUInt32BE(m.payloadType, 112);
  out.writeUInt32BE(m.payload.length, HEADER_LENGTH);
  m.payload.copy(out, HEADER_LENGTH + 4);
  return out;
}

function problemsOf(frame: Buffer, m: AgentMessage, headerLength: number): string[] {
  const problems: string[] = [];
  const rawType = frame.subarray(4, 4 + typeBytes);
  if (rawType.includes(0)) problems.push(`${m.messageType}: message type padded with NUL bytes, not spaces`);
  if (headerLength !== HEADER_LENGTH) problems.push(`${m.messageType}: header length ${headerLength}, writers put ${HEADER_LENGTH}`);
  const declared = frame.readUInt32BE(headerLength);
  const actual = frame.length - headerLength - 4;
  if (declared !== actual) problems.push(`${m.messageType}: payload length ${declared} but ${actual} bytes follow`);
  if (m.createdDate === 0) problems.push(`${m.messageType}: CreatedDate is 0`);
  const digest = createHash('sha256').update(m.payload).digest();
  if (m.payload.length > 0 && !digest.equals(frame.subarray(80, 112))) problems.push(`${m.messageType} ${m.sequenceNumber}: payload digest is not its SHA-256`);
  return problems;
}

/**
 * Decodes one frame as both Go readers do: the payload starts at HeaderLength + 4 and runs to the end
 * of the frame. Throws FrameError when the frame cannot be read; lists lesser problems.
 */
export function decode(frame: Buffer): Decoded {
  if (frame.length < HEADER_LENGTH + 4) throw new FrameError(`frame of ${frame.length} bytes is shorter than a header`);
  const headerLength = frame.readUInt32BE(0);
  if (headerLength < HEADER_LENGTH || headerLength + 4 > frame.length) throw new FrameError(`header length ${headerLength} in a frame of ${frame.length} bytes`);
  const messageType = frame.subarray(4, 4 + typeBytes).toString('ascii').replace(/\0/g, '').trim();
  if (messageType === '') throw new FrameError('empty message type');
  const message: AgentMessage = {
    messageType,
    schemaVersion: frame.readUInt32BE(36),
    createdDate: Number(frame.readBigUInt64BE(40)),
    sequenceNumber: Number(frame.readBigInt64BE(48)),
    flags: Number(frame.readBigUInt64BE(56)),
    messageId: uuidText(Buffer.concat([frame.subarray(72, 80), frame.subarray(64, 72)])),
    payloadType: frame.readUInt32BE(112),
    payload: Buffer.from(frame.subarray(headerLength + 4)),
  };
  return { message, problems: problemsOf(frame, message, headerLength) };
}

/** The acknowledgement of `m`: sequence 0, flags 3, the JSON both Go peers write. */
export function ackOf(m: AgentMessage): AgentMessage {
  const content = {
    AcknowledgedMessageType: m.messageType,
    AcknowledgedMessageId: m.messageId,
    AcknowledgedMessageSequenceNumber: m.sequenceNumber,
    IsSequentialMessage: true,
  };
  return message({ messageType: MessageType.ack, flags: 3, payload: Buffer.from(JSON.stringify(content)) });
}

/** The sequence number an acknowledgement confirms, or undefined when its JSON is not an acknowledgement. */
export function ackedSequence(m: AgentMessage): number | undefined {
  try {
    const content = JSON.parse(m.payload.toString('utf8')) as { AcknowledgedMessageSequenceNumber?: unknown };
    const seq = content.AcknowledgedMessageSequenceNumber;
    return typeof seq === 'number' && Number.isInteger(seq) ? seq : undefined;
  } catch {
    return undefined;
  }
}

/** A Flag payload (uint32 BE). */
export function flagPayload(value: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(value, 0);
  return b;
}
