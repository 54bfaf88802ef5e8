// The user data of every burst instance: the ORCA agent (agent/orca-agent.sh) after the cluster's
// settings. Identical for all pods (so identical launches can be batched), with no pod data and no
// secrets: the pod is assigned after launch through SSM Parameter Store (architecture §2).
import { shq } from '../domain/assignment.js';

/** EC2's limit on user data, before base64. */
export const userDataLimitBytes = 16 * 1024;

export interface AgentSettings {
  readonly clusterId: string;
  /** CloudWatch Logs group of the containers' output. */
  readonly logGroup: string;
  /** SSM parameter path under which each instance's assignment is kept: <prefix>/<instance-id>/part-NNN. */
  readonly paramPrefix: string;
}

export const agentSettings = (clusterId: string): AgentSettings => ({
  clusterId, logGroup: `/orca/${clusterId}`, paramPrefix: `/orca/${clusterId}/instances`,
});

export function agentUserData(s: AgentSettings, agentScript: string): string {
  const text = [
    '#!/bin/sh',
    '# ORCA burst instance: the ORCA agent. No pod data and no secrets here (docs/architecture.md).',
    `ORCA_CLUSTER=${shq(s.clusterId)}`,
    `ORCA_LOG_GROUP=${shq(s.logGroup)}`,
    `ORCA_PARAM_PREFIX=${shq(s.paramPrefix)}`,
    agentScript.replace(/^# shellcheck shell=sh\n/, ''),
  ].join('\n');
  const bytes = Buffer.byteLength(text, 'utf8');
  if (bytes > userDataLimitBytes) throw new Error(`the agent's user data is ${String(bytes)} bytes; EC2 allows ${String(userDataLimitBytes)}`);
  return text;
}
