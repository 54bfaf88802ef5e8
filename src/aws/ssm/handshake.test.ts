// Answers to the agent's HandshakeRequest: SessionType accepted, KMS and unknown actions refused
// with the status that makes the agent cancel, and a typed error for each refusal.
import { describe, expect, it } from 'vitest';
import { SessionError } from '../../domain/errors.js';
import { ActionStatus, answerHandshake, handshakeCustomerMessage } from './handshake.js';

const request = (actions: unknown[]): Buffer => Buffer.from(JSON.stringify({ AgentVersion: '3.3.1142.0', RequestedClientActions: actions }));
const sessionType = (t: string): unknown => ({ ActionType: 'SessionType', ActionParameters: { SessionType: t, Properties: { portNumber: '8080', type: 'LocalPortForwarding' } } });
const kms = { ActionType: 'KMSEncryption', ActionParameters: { KMSKeyId: 'arn:aws:kms:us-east-1:123456789012:key/k', Challenge: 'AAAA' } };

const response = (b: Buffer | undefined): unknown => JSON.parse(b?.toString() ?? 'null');

describe('the handshake answer', () => {
  it('accepts the SessionType action with status 1 and announces the client version', () => {
    const a = answerHandshake(request([sessionType('Port')]), '1.2.677.0');
    expect(a.error).toBeUndefined();
    expect(a).toMatchObject({ agentVersion: '3.3.1142.0', sessionType: 'Port' });
    expect(response(a.response)).toEqual({
      ClientVersion: '1.2.677.0', ProcessedClientActions: [{ ActionType: 'SessionType', ActionStatus: 1, ActionResult: null, Error: '' }], Errors: null,
    });
  });

  it('answers KMSEncryption Unsupported (3) and fails with encryption-unsupported, naming the preferences', () => {
    const a = answerHandshake(request([sessionType('InteractiveCommands'), kms]), '1.2.677.0');
    expect(a.error).toBeInstanceOf(SessionError);
    expect(a.error?.kind).toBe('encryption-unsupported');
    expect(a.error?.message).toMatch(/Session Manager preferences require KMS encryption.*ORCA does not support yet/);
    const r = response(a.response) as { ProcessedClientActions: { ActionType: string; ActionStatus: number }[]; Errors: string[] };
    expect(r.ProcessedClientActions.map((x) => [x.ActionType, x.ActionStatus])).toEqual([['SessionType', ActionStatus.success], ['KMSEncryption', ActionStatus.unsupported]]);
    expect(r.Errors).toHaveLength(1);
  });

  it('reports the encryption problem even when another action is refused first', () => {
    const a = answerHandshake(request([{ ActionType: 'Teleport' }, kms]), '1.2.677.0');
    expect(a.error?.kind).toBe('encryption-unsupported');
  });

  it('answers an unknown action Unsupported and fails the handshake', () => {
    const a = answerHandshake(request([sessionType('Port'), { ActionType: 'Teleport' }]), '1.2.677.0');
    expect(a.error?.kind).toBe('handshake');
    expect(a.error?.message).toMatch(/unsupported handshake action "Teleport"/);
    expect((response(a.response) as { ProcessedClientActions: { ActionStatus: number }[] }).ProcessedClientActions[1]?.ActionStatus).toBe(3);
  });

  it('fails an unknown session type with status 2', () => {
    const a = answerHandshake(request([sessionType('Telnet')]), '1.2.677.0');
    expect(a.error?.kind).toBe('handshake');
    expect((response(a.response) as { ProcessedClientActions: { ActionStatus: number }[] }).ProcessedClientActions[0]?.ActionStatus).toBe(2);
  });

  it('fails without a response when the request is not a JSON object', () => {
    for (const bad of ['', '[]', '{"RequestedClientActions":']) {
      const a = answerHandshake(Buffer.from(bad), '1.2.677.0');
      expect(a.response, bad).toBeUndefined();
      expect(a.error?.kind, bad).toBe('handshake');
    }
  });

  it('reads the customer message of HandshakeComplete, tolerating junk', () => {
    expect(handshakeCustomerMessage(Buffer.from('{"HandshakeTimeToComplete":1000,"CustomerMessage":"hi"}'))).toBe('hi');
    expect(handshakeCustomerMessage(Buffer.from('junk'))).toBe('');
  });
});
