// The AgentMessage codec against the worked byte vector of shared/reference/ssm-session.md §2.2,
// round trips, every malformed case, and seeded fuzzing (decode only ever throws the typed error).
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { SessionError } from '../../domain/errors.js';
import {
  acknowledgementOf, channelClosedReason, decodeAcknowledgement, decodeAgentMessage, decodeFlag, encodeAcknowledgement, encodeAgentMessage,
  encodeFlag, encodeSize, MessageType, parseJsonObject, PayloadType, type AgentMessage,
} from './agent-message.js';
import { seeded } from '../../../test/fakes/random.js';

const vectorHex = `
00 00 00 74 69 6e 70 75 74 5f 73 74 72 65 61 6d
5f 64 61 74 61 20 20 20 20 20 20 20 20 20 20 20
20 20 20 20 00 00 00 01 00 00 01 8b cf e5 68 00
00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00
88 99 aa bb cc dd ee ff 00 11 22 33 44 55 66 77
d5 3c a1 ea 7d ce 87 c1 14 32 05 2a 85 50 ed 26
15 cf 71 5c a8 43 c8 97 10 ed 83 32 5b 69 1c ba
00 00 00 03 00 00 00 15 7b 22 63 6f 6c 73 22 3a
38 30 2c 22 72 6f 77 73 22 3a 32 34 7d`;
const vector = Buffer.from(vectorHex.replace(/\s+/g, ''), 'hex');

const vectorMessage: AgentMessage = {
  messageType: MessageType.input, schemaVersion: 1, createdDate: 1_700_000_000_000, sequenceNumber: 0, flags: 0,
  messageId: '00112233-4455-6677-8899-aabbccddeeff', payloadType: PayloadType.size, payload: Buffer.from('{"cols":80,"rows":24}'),
};


const message = (over: Partial<AgentMessage> = {}): AgentMessage => ({ ...vectorMessage, ...over });

function expectProtocolError(frame: Uint8Array, text: RegExp): void {
  let caught: unknown = undefined;
  try {
    decodeAgentMessage(frame);
  } catch (e) {
    caught = e;
  }
  expect(caught).toBeInstanceOf(SessionError);
  expect((caught as SessionError).kind).toBe('protocol');
  expect((caught as SessionError).message).toMatch(text);
}

/** A valid frame whose header length is `hl` (> 116: extra header bytes before PayloadLength). */
function withHeaderLength(m: AgentMessage, hl: number): Buffer {
  const plain = encodeAgentMessage(m);
  const out = Buffer.alloc(hl + 4 + m.payload.length);
  plain.copy(out, 0, 0, 116);
  out.writeUInt32BE(hl, 0);
  out.writeUInt32BE(m.payload.length, hl);
  m.payload.copy(out, hl + 4);
  return out;
}

describe('the AgentMessage codec', () => {
  it('encodes the worked example of the reference byte for byte (141 bytes)', () => {
    const frame = encodeAgentMessage(vectorMessage);
    expect(frame.length).toBe(141);
    expect(frame.toString('hex')).toBe(vector.toString('hex'));
  });

  it('decodes the worked example back to its fields', () => {
    const m = decodeAgentMessage(vector);
    expect({ ...m, payload: m.payload.toString() }).toEqual({ ...vectorMessage, payload: '{"cols":80,"rows":24}' });
  });

  it('stores the message id with its halves swapped and the digest as raw SHA-256', () => {
    const frame = encodeAgentMessage(message({ messageId: 'ffeeddcc-bbaa-9988-7766-554433221100' }));
    expect(frame.subarray(64, 80).toString('hex')).toBe('7766554433221100' + 'ffeeddccbbaa9988');
    expect(frame.subarray(80, 112)).toEqual(createHash('sha256').update(vectorMessage.payload).digest());
  });

  it('round-trips random messages, negative and large sequence numbers and empty payloads included', () => {
    const rand = seeded(7);
    const types = Object.values(MessageType);
    for (let i = 0; i < 300; i++) {
      const payload = Buffer.from(Array.from({ length: Math.floor(rand() * 1100) }, () => Math.floor(rand() * 256)));
      const m = message({
        messageType: types[i % types.length] ?? 'x', schemaVersion: Math.floor(rand() * 5), createdDate: 1 + Math.floor(rand() * 2 ** 52),
        sequenceNumber: Math.floor((rand() - 0.5) * 2 ** 53), flags: Math.floor(rand() * 4), payloadType: Math.floor(rand() * 13), payload,
        messageId: [8, 4, 4, 4, 12].map((n) => Array.from({ length: n }, () => Math.floor(rand() * 16).toString(16)).join('')).join('-'),
      });
      expect(decodeAgentMessage(encodeAgentMessage(m)), `message ${i}`).toEqual(m);
    }
  });

  it('reads a NUL-padded message type (as ssm-session writes it) and upper-case ids as lowercase', () => {
    const frame = encodeAgentMessage(message({ messageType: MessageType.output, messageId: 'AABBCCDD-0000-1111-2222-333344445555' }));
    frame.fill(0, 4, 36);
    frame.write('\0\0output_stream_data \0', 4, 'latin1');
    const m = decodeAgentMessage(frame);
    expect(m.messageType).toBe('output_stream_data');
    expect(m.messageId).toBe('aabbccdd-0000-1111-2222-333344445555');
  });

  it('takes the payload from HeaderLength + 4 when a writer put a longer header', () => {
    const m = message({ payload: Buffer.from('hello') });
    expect(decodeAgentMessage(withHeaderLength(m, 124)).payload.toString()).toBe('hello');
  });

  it('does not validate start_publication and pause_publication, which the service generates', () => {
    const frame = encodeAgentMessage(message({ messageType: MessageType.pausePublication, createdDate: 0, payload: Buffer.from('x') }));
    frame.fill(0, 80, 112);
    expect(decodeAgentMessage(frame).messageType).toBe('pause_publication');
  });

  it('decodes from a view into a larger buffer', () => {
    const big = Buffer.concat([Buffer.from('junk'), vector, Buffer.from('more')]);
    expect(decodeAgentMessage(big.subarray(4, 4 + vector.length)).sequenceNumber).toBe(0);
  });
});

describe('malformed AgentMessages', () => {
  it('rejects frames too short for a header length', () => {
    expectProtocolError(Buffer.alloc(3), /truncated: 3 bytes/);
  });

  it('rejects a header length below 116', () => {
    const frame = Buffer.from(vector);
    frame.writeUInt32BE(112, 0);
    expectProtocolError(frame, /header length 112 is below 116/);
  });

  it('rejects frames cut inside the header', () => {
    expectProtocolError(vector.subarray(0, 119), /truncated: 119 bytes, the header needs 120/);
  });

  it('rejects a payload length that does not match the bytes after the header, either way', () => {
    expectProtocolError(vector.subarray(0, 140), /payload length 21 does not match the 20 bytes/);
    expectProtocolError(Buffer.concat([vector, Buffer.from([0])]), /payload length 21 does not match the 22 bytes/);
  });

  it('rejects a wrong payload digest', () => {
    const frame = Buffer.from(vector);
    frame[140] = 0x7e;
    expectProtocolError(frame, /payload digest mismatch \(input_stream_data, sequence 0\)/);
  });

  it('accepts any digest when the payload is empty', () => {
    const frame = encodeAgentMessage(message({ payload: Buffer.alloc(0) }));
    frame.fill(0xab, 80, 112);
    expect(decodeAgentMessage(frame).payload.length).toBe(0);
  });

  it('rejects an empty message type and a zero created date', () => {
    const blank = Buffer.from(vector);
    blank.fill(0x20, 4, 36);
    expectProtocolError(blank, /empty message type/);
    expectProtocolError(encodeAgentMessage(message({ createdDate: 0 })), /created date is 0/);
  });

  it('rejects sequence numbers beyond the safe integer range', () => {
    const frame = Buffer.from(vector);
    frame.writeBigInt64BE(2n ** 62n, 48);
    expectProtocolError(frame, /sequence number 4611686018427387904 is out of range/);
  });

  it('refuses to encode what it cannot represent, with the typed error', () => {
    expect(() => encodeAgentMessage(message({ messageType: 'x'.repeat(33) }))).toThrow(SessionError);
    expect(() => encodeAgentMessage(message({ messageId: 'not-a-uuid' }))).toThrow(/not a UUID/);
    expect(() => encodeAgentMessage(message({ sequenceNumber: 1.5 }))).toThrow(/sequence number 1.5 is out of range/);
    expect(() => encodeAgentMessage(message({ payloadType: -1 }))).toThrow(/payload type -1 is out of range/);
  });

  it('never throws anything but SessionError(protocol) on random, truncated or bit-flipped input (fuzz)', () => {
    const seed = Date.now() % 1_000_000;
    const rand = seeded(seed);
    const valid = [vector, encodeAgentMessage(message({ payload: Buffer.alloc(0) })), encodeAgentMessage(message({ payload: Buffer.alloc(3000, 7) }))];
    let decoded = 0;
    for (let i = 0; i < 6000; i++) {
      const base = valid[i % valid.length] ?? vector;
      const frame = fuzzCase(i, base, rand);
      try {
        decodeAgentMessage(frame);
        decoded += 1;
      } catch (e) {
        expect(e instanceof SessionError && e.kind === 'protocol', `seed ${seed}, case ${i}: ${String(e)}`).toBe(true);
      }
    }
    expect(decoded, `seed ${seed}`).toBeGreaterThan(0);
  });
});

function fuzzCase(i: number, base: Buffer, rand: () => number): Buffer {
  switch (i % 4) {
    case 0: return Buffer.from(Array.from({ length: Math.floor(rand() * 300) }, () => Math.floor(rand() * 256)));
    case 1: return base.subarray(0, Math.floor(rand() * base.length));
    case 2: {
      const b = Buffer.from(base);
      for (let k = 0; k < 1 + Math.floor(rand() * 4); k++) b[Math.floor(rand() * b.length)] = Math.floor(rand() * 256);
      return b;
    }
    default: {
      const b = Buffer.from(base);
      // Keep the header length sane but flip a field that is not covered by the digest.
      b[56 + Math.floor(rand() * 8)] = Math.floor(rand() * 256);
      return b;
    }
  }
}

describe('small payloads', () => {
  it('acknowledges a message by type, id and sequence number in the shape both ends send', () => {
    const output = message({ messageType: MessageType.output, sequenceNumber: 41, messageId: '11111111-2222-3333-4444-555555555555' });
    const ack = acknowledgementOf(output, { messageId: '99999999-8888-7777-6666-555555555555', createdDate: 5 });
    expect(ack).toMatchObject({ messageType: 'acknowledge', sequenceNumber: 0, flags: 3, payloadType: 0, schemaVersion: 1, createdDate: 5 });
    expect(JSON.parse(ack.payload.toString())).toEqual({
      AcknowledgedMessageType: 'output_stream_data', AcknowledgedMessageId: '11111111-2222-3333-4444-555555555555',
      AcknowledgedMessageSequenceNumber: 41, IsSequentialMessage: true,
    });
    expect(decodeAcknowledgement(decodeAgentMessage(encodeAgentMessage(ack)).payload)).toEqual({
      messageType: 'output_stream_data', messageId: '11111111-2222-3333-4444-555555555555', sequenceNumber: 41,
    });
  });

  it('rejects acknowledgements without a usable sequence number', () => {
    expect(() => decodeAcknowledgement(Buffer.from('{"AcknowledgedMessageSequenceNumber":"3"}'))).toThrow(/no sequence number/);
    expect(() => decodeAcknowledgement(Buffer.from('[1]'))).toThrow(/not a JSON object/);
    expect(() => decodeAcknowledgement(Buffer.from('{'))).toThrow(/not JSON/);
    expect(decodeAcknowledgement(encodeAcknowledgement({ messageType: '', messageId: '', sequenceNumber: 2 })).sequenceNumber).toBe(2);
  });

  it('encodes flags as one big-endian uint32 and rejects other lengths', () => {
    expect(encodeFlag(3).toString('hex')).toBe('00000003');
    expect(decodeFlag(Buffer.from([0, 0, 0, 2]))).toBe(2);
    expect(() => decodeFlag(Buffer.from([3]))).toThrow(/1 bytes, expected 4/);
  });

  it('encodes a terminal size as the plugin does', () => {
    expect(encodeSize(80, 24).toString()).toBe('{"cols":80,"rows":24}');
    expect(() => encodeSize(-1, 24)).toThrow(SessionError);
  });

  it('reads channel_closed reasons, tolerating empty and unreadable payloads', () => {
    expect(channelClosedReason(Buffer.from(JSON.stringify({ MessageType: 'channel_closed', Output: 'Session terminated', SchemaVersion: 1 })))).toBe('Session terminated');
    expect(channelClosedReason(Buffer.alloc(0))).toBe('');
    expect(channelClosedReason(Buffer.from('nope'))).toBe('');
    expect(channelClosedReason(Buffer.from('{"Output":3}'))).toBe('');
  });

  it('parses JSON objects only', () => {
    expect(parseJsonObject(Buffer.from('{"a":1}'), 'x')).toEqual({ a: 1 });
    expect(() => parseJsonObject(Buffer.from('null'), 'thing')).toThrow(/malformed thing: not a JSON object/);
  });
});
