import { describe, expect, it } from 'vitest';
import { negotiateUpgrade, PORT_FORWARD_PROTOCOLS, REMOTE_COMMAND_PROTOCOLS, switchingProtocolsHead } from './upgrade.js';

const upgradeHeaders = { connection: 'Upgrade', upgrade: 'SPDY/3.1' };

describe('negotiateUpgrade', () => {
  it('picks the first protocol in the client\'s order that the server supports', () => {
    const d = negotiateUpgrade({ ...upgradeHeaders, 'x-stream-protocol-version': 'v9.channel.k8s.io, v4.channel.k8s.io,v5.channel.k8s.io' }, REMOTE_COMMAND_PROTOCOLS);
    expect(d).toMatchObject({ kind: 'upgrade', protocol: 'v4.channel.k8s.io' });
  });

  it('reads every header line and ignores empty items', () => {
    const d = negotiateUpgrade({ ...upgradeHeaders, 'x-stream-protocol-version': [' , ', 'portforward.k8s.io'] }, PORT_FORWARD_PROTOCOLS);
    expect(d).toMatchObject({ kind: 'upgrade', protocol: 'portforward.k8s.io' });
  });

  it('matches header names and the Connection/Upgrade tokens case-insensitively', () => {
    const d = negotiateUpgrade({ Connection: 'keep-alive, UPGRADE', Upgrade: 'spdy/3.1', 'X-Stream-Protocol-Version': 'v5.channel.k8s.io' }, REMOTE_COMMAND_PROTOCOLS);
    expect(d).toMatchObject({ kind: 'upgrade', protocol: 'v5.channel.k8s.io' });
  });

  it('requires X-Stream-Protocol-Version (400)', () => {
    expect(negotiateUpgrade(upgradeHeaders, REMOTE_COMMAND_PROTOCOLS)).toEqual({
      kind: 'refuse', status: 400, message: 'unable to upgrade: X-Stream-Protocol-Version is required', headers: [],
    });
    expect(negotiateUpgrade({ ...upgradeHeaders, 'x-stream-protocol-version': ' , ' }, REMOTE_COMMAND_PROTOCOLS)).toMatchObject({ status: 400 });
  });

  it('answers no overlap with 403 and one X-Accepted-Stream-Protocol-Versions per supported protocol', () => {
    expect(negotiateUpgrade({ ...upgradeHeaders, 'x-stream-protocol-version': 'v1, v2' }, ['v5.channel.k8s.io', 'v4.channel.k8s.io'])).toEqual({
      kind: 'refuse',
      status: 403,
      message: 'unable to upgrade: unable to negotiate protocol: client supports [v1 v2], server accepts [v5.channel.k8s.io v4.channel.k8s.io]',
      headers: [['X-Accepted-Stream-Protocol-Versions', 'v5.channel.k8s.io'], ['X-Accepted-Stream-Protocol-Versions', 'v4.channel.k8s.io']],
    });
  });

  it('does not match protocol names case-insensitively (Go compares them exactly)', () => {
    expect(negotiateUpgrade({ ...upgradeHeaders, 'x-stream-protocol-version': 'V4.channel.k8s.io' }, REMOTE_COMMAND_PROTOCOLS)).toMatchObject({ status: 403 });
  });

  it.each([
    ['no Connection', { upgrade: 'SPDY/3.1' }],
    ['no Upgrade', { connection: 'Upgrade' }],
    ['a websocket upgrade', { connection: 'Upgrade', upgrade: 'websocket' }],
    ['SPDY/3 without .1', { connection: 'Upgrade', upgrade: 'SPDY/3' }],
  ])('requires the upgrade headers (400) — %s', (_name, h) => {
    expect(negotiateUpgrade({ ...h, 'x-stream-protocol-version': 'v4.channel.k8s.io' }, REMOTE_COMMAND_PROTOCOLS)).toEqual({
      kind: 'refuse', status: 400, message: 'unable to upgrade: missing upgrade headers in request', headers: [],
    });
  });

  it('negotiates the protocol before checking the upgrade headers, as the kubelet does', () => {
    expect(negotiateUpgrade({}, REMOTE_COMMAND_PROTOCOLS)).toMatchObject({ status: 400, message: 'unable to upgrade: X-Stream-Protocol-Version is required' });
    expect(negotiateUpgrade({ 'x-stream-protocol-version': 'v1' }, REMOTE_COMMAND_PROTOCOLS)).toMatchObject({ status: 403 });
  });

  it('needs a supported list', () => {
    expect(() => negotiateUpgrade(upgradeHeaders, [])).toThrow(RangeError);
  });
});

describe('switchingProtocolsHead', () => {
  it('is the 101 head with the negotiated protocol', () => {
    const d = negotiateUpgrade({ ...upgradeHeaders, 'x-stream-protocol-version': 'v4.channel.k8s.io' }, REMOTE_COMMAND_PROTOCOLS);
    expect(d.kind === 'upgrade' ? d.responseHead.toString('latin1') : d.message).toBe(
      'HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: SPDY/3.1\r\nX-Stream-Protocol-Version: v4.channel.k8s.io\r\n\r\n',
    );
  });

  it('refuses a protocol that would inject header lines', () => {
    expect(() => switchingProtocolsHead('v4\r\nX-Evil: 1')).toThrow(RangeError);
  });
});
