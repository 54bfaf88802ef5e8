// The user data of every burst instance: generic, identical for all pods (so identical launches can
// be batched), with no pod data and no secrets. The on-instance agent that takes a pod's assignment
// after launch replaces this bootstrap in a later release; until then it only records that the
// instance booted under ORCA.
export function genericUserData(clusterId: string): string {
  const safe = clusterId.replace(/[^-_.a-zA-Z0-9]/g, '');
  return [
    '#!/bin/sh',
    '# ORCA burst instance bootstrap: no pod data and no secrets here (docs/architecture.md).',
    `echo "orca cluster ${safe}: instance booted; waiting for the ORCA agent" >/var/log/orca-bootstrap.log`,
    '',
  ].join('\n');
}
