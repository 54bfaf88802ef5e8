import { describe, expect, it } from 'vitest';
import {
  CloseCode, decodeMessage, encodeClose, encodeMessage, MAX_FORWARDED_PORTS, negotiateProtocol, offeredProtocols,
  parsePortQuery, parsePorts, parseResizeMessage, portChannels, portPrefix, PORT_FORWARD_WS_PROTOCOLS, protocolTraits,
  REMOTE_COMMAND_WS_PROTOCOLS,
} from './protocols.js';

const v5 = protocolTraits('v5.channel.k8s.io');
const v4 = protocolTraits('v4.channel.k8s.io');
const v4b64 = protocolTraits('v4.base64.channel.k8s.io');

describe('negotiateProtocol', () => {
  it('picks the first protocol in the client\'s order that the server supports', () => {
    expect(negotiateProtocol(['v9.channel.k8s.io', 'v4.channel.k8s.io', 'v5.channel.k8s.io'], REMOTE_COMMAND_WS_PROTOCOLS)).toEqual({ ok: true, value: 'v4.channel.k8s.io' });
    expect(negotiateProtocol(['base64.channel.k8s.io', 'v5.channel.k8s.io'], REMOTE_COMMAND_WS_PROTOCOLS)).toEqual({ ok: true, value: 'base64.channel.k8s.io' });
  });

  it('negotiates "" when the client offers nothing', () => {
    expect(negotiateProtocol([], REMOTE_COMMAND_WS_PROTOCOLS)).toEqual({ ok: true, value: '' });
    expect(negotiateProtocol([], PORT_FORWARD_WS_PROTOCOLS)).toEqual({ ok: true, value: '' });
  });

  it('refuses with a message naming both lists when nothing overlaps', () => {
    expect(negotiateProtocol(['v5.channel.k8s.io', 'channel.k8s.io'], PORT_FORWARD_WS_PROTOCOLS)).toEqual({
      ok: false,
      error: 'requested protocol(s) are not supported: [v5.channel.k8s.io channel.k8s.io]; supports [v4.channel.k8s.io v4.base64.channel.k8s.io]',
    });
  });

  it('compares names exactly', () => {
    expect(negotiateProtocol(['V4.channel.k8s.io'], REMOTE_COMMAND_WS_PROTOCOLS).ok).toBe(false);
  });
});

describe('offeredProtocols', () => {
  it('splits every header line on commas and drops empty items', () => {
    expect(offeredProtocols([' v5.channel.k8s.io ,, v4.channel.k8s.io', 'channel.k8s.io'])).toEqual(['v5.channel.k8s.io', 'v4.channel.k8s.io', 'channel.k8s.io']);
    expect(offeredProtocols(undefined)).toEqual([]);
    expect(offeredProtocols(' , ')).toEqual([]);
  });
});

describe('protocolTraits', () => {
  it('knows which protocols use base64, CLOSE and a JSON Status', () => {
    expect(protocolTraits('v5.channel.k8s.io')).toEqual({ base64: false, closeSignal: true, statusJson: true });
    expect(protocolTraits('v4.channel.k8s.io')).toEqual({ base64: false, closeSignal: false, statusJson: true });
    expect(protocolTraits('v4.base64.channel.k8s.io')).toEqual({ base64: true, closeSignal: false, statusJson: true });
    expect(protocolTraits('channel.k8s.io')).toEqual({ base64: false, closeSignal: false, statusJson: false });
    expect(protocolTraits('base64.channel.k8s.io')).toEqual({ base64: true, closeSignal: false, statusJson: false });
    expect(protocolTraits('')).toEqual({ base64: false, closeSignal: false, statusJson: false });
  });
});

describe('encodeMessage / encodeClose', () => {
  it('prefixes binary messages with the channel byte', () => {
    expect(encodeMessage(2, Buffer.from('ab'), false)).toEqual(Buffer.from([2, 0x61, 0x62]));
    expect(encodeMessage(1, new Uint8Array(0), false)).toEqual(Buffer.from([1]));
  });

  it('writes base64 messages as text: the channel as a digit, then base64', () => {
    expect(encodeMessage(1, Buffer.from('\n'), true)).toBe('1Cg==');
    expect(encodeMessage(3, Buffer.alloc(0), true)).toBe('3');
  });

  it('encodes a view of a larger buffer without its neighbours', () => {
    const whole = Buffer.from('xxhelloxx');
    expect(encodeMessage(0, whole.subarray(2, 7), true)).toBe(`0${Buffer.from('hello').toString('base64')}`);
  });

  it('refuses channels outside 0..254', () => {
    expect(() => encodeMessage(255, Buffer.alloc(0), false)).toThrow(RangeError);
    expect(() => encodeMessage(-1, Buffer.alloc(0), false)).toThrow(RangeError);
    expect(() => encodeClose(255)).toThrow(RangeError);
  });

  it('builds the v5 CLOSE message', () => {
    expect(encodeClose(0)).toEqual(Buffer.from([0xff, 0]));
  });
});

describe('decodeMessage', () => {
  it('splits a binary message into channel and payload', () => {
    expect(decodeMessage(Buffer.from([0, 1, 2, 255]), v4)).toEqual({ ok: true, value: { kind: 'data', channel: 0, payload: Buffer.from([1, 2, 255]) } });
  });

  it('treats an empty message as nothing', () => {
    expect(decodeMessage(Buffer.alloc(0), v5)).toEqual({ ok: true, value: { kind: 'empty' } });
  });

  it('reads v5 CLOSE and refuses any other length', () => {
    expect(decodeMessage(Buffer.from([0xff, 0]), v5)).toEqual({ ok: true, value: { kind: 'close', channel: 0 } });
    expect(decodeMessage(Buffer.from([0xff]), v5)).toEqual({ ok: false, error: { code: CloseCode.protocolError, reason: 'CLOSE message of 1 bytes (must be 2)' } });
    expect(decodeMessage(Buffer.from([0xff, 0, 0]), v5)).toMatchObject({ ok: false, error: { code: 1002 } });
  });

  it('refuses channel 255 without v5', () => {
    expect(decodeMessage(Buffer.from([0xff, 0]), v4)).toEqual({ ok: false, error: { code: 1002, reason: 'unknown channel 255' } });
  });

  it('decodes base64 messages', () => {
    expect(decodeMessage(Buffer.from('0Zm9vCg=='), v4b64)).toEqual({ ok: true, value: { kind: 'data', channel: 0, payload: Buffer.from('foo\n') } });
    expect(decodeMessage(Buffer.from('4'), v4b64)).toEqual({ ok: true, value: { kind: 'data', channel: 4, payload: Buffer.alloc(0) } });
    expect(decodeMessage(Buffer.from('0Zm9v\r\nCg=='), v4b64)).toMatchObject({ ok: true, value: { payload: Buffer.from('foo\n') } });
  });

  it('refuses invalid base64 with 1007', () => {
    for (const bad of ['0Zm9', '0Zm9vC', '0Zm9v!g==', '0Zg=x', '0====']) {
      expect(decodeMessage(Buffer.from(bad), v4b64), bad).toEqual({ ok: false, error: { code: CloseCode.invalidPayload, reason: 'channel 0: payload is not valid base64' } });
    }
  });

  it('refuses a base64 channel character below "0"', () => {
    expect(decodeMessage(Buffer.from('/Zm9v'), v4b64)).toEqual({ ok: false, error: { code: 1002, reason: 'unknown channel character "/"' } });
  });

  it('round-trips every channel a port-forward can use in both framings', () => {
    for (const channel of [0, 9, 10, 79, 80, 200, 254]) {
      for (const traits of [v4, v4b64]) {
        const m = encodeMessage(channel, Buffer.from([0, 255, 7]), traits.base64);
        const bytes = typeof m === 'string' ? Buffer.from(m, 'utf8') : m;
        expect(decodeMessage(bytes, traits)).toEqual({ ok: true, value: { kind: 'data', channel, payload: Buffer.from([0, 255, 7]) } });
      }
    }
  });
});

describe('parseResizeMessage', () => {
  it('reads Width and Height as cols and rows', () => {
    expect(parseResizeMessage(Buffer.from('{"Width":120,"Height":40}'))).toEqual({ ok: true, value: [{ cols: 120, rows: 40 }] });
  });

  it('reads several newline-separated objects, as Go\'s json.Encoder writes them', () => {
    expect(parseResizeMessage(Buffer.from('{"Width":80,"Height":24}\n{"Width":100,"Height":30}\n'))).toEqual({
      ok: true, value: [{ cols: 80, rows: 24 }, { cols: 100, rows: 30 }],
    });
  });

  it('takes a missing field as 0 and ignores unknown fields', () => {
    expect(parseResizeMessage(Buffer.from('{"Width":80,"Extra":true}'))).toEqual({ ok: true, value: [{ cols: 80, rows: 0 }] });
  });

  it('refuses anything that is not two uint16 values with 1007', () => {
    for (const bad of ['{"Width":80', 'null', '[]', '42', '{"Width":-1,"Height":2}', '{"Width":65536,"Height":2}', '{"Width":1.5,"Height":2}', '{"Width":"80","Height":2}']) {
      expect(parseResizeMessage(Buffer.from(bad)), bad).toMatchObject({ ok: false, error: { code: CloseCode.invalidPayload } });
    }
  });
});

describe('parsePorts', () => {
  it('reads repeated values and comma lists in order', () => {
    expect(parsePorts(['8080', '9090,22', '8080'])).toEqual({ ok: true, value: [8080, 9090, 22, 8080] });
    expect(parsePortQuery(new URLSearchParams('port=1&port=65535,443&other=x'))).toEqual({ ok: true, value: [1, 65535, 443] });
  });

  it('requires at least one port', () => {
    expect(parsePorts([])).toEqual({ ok: false, error: 'query parameter "port" is required' });
    expect(parsePortQuery(new URLSearchParams('ports=80'))).toEqual({ ok: false, error: 'query parameter "port" is required' });
  });

  it('refuses empty values and items', () => {
    expect(parsePorts([''])).toEqual({ ok: false, error: 'query parameter "port" cannot be empty' });
    expect(parsePorts(['80,'])).toEqual({ ok: false, error: 'unable to parse "" as a port: must be an integer 1-65535' });
  });

  it('refuses anything but integers 1-65535', () => {
    for (const bad of ['0', '65536', '-1', '+80', '80.0', 'http', ' 80', '0x50', '123456']) {
      expect(parsePorts([bad]), bad).toEqual({ ok: false, error: `unable to parse ${JSON.stringify(bad)} as a port: must be an integer 1-65535` });
    }
  });

  it('refuses more ports than one-byte channel numbers can carry', () => {
    const many = Array.from({ length: MAX_FORWARDED_PORTS + 1 }, (_, i) => String(i + 1));
    expect(parsePorts(many)).toEqual({ ok: false, error: 'too many ports: 128 (at most 127)' });
    expect(parsePorts(many.slice(1)).ok).toBe(true);
  });
});

describe('port channels and prefix', () => {
  it('writes the port as uint16 little-endian', () => {
    expect(portPrefix(8080)).toEqual(Buffer.from([0x90, 0x1f]));
    expect(portPrefix(65535)).toEqual(Buffer.from([0xff, 0xff]));
    expect(portPrefix(1)).toEqual(Buffer.from([1, 0]));
  });

  it('gives the i-th port channels 2i and 2i+1', () => {
    expect(portChannels(0)).toEqual({ data: 0, error: 1 });
    expect(portChannels(3)).toEqual({ data: 6, error: 7 });
  });
});
