// The dependency rule of ORCA's hexagon (see docs/architecture.md). `npm run depcheck` fails on any
// violation. Paths are relative to the directory depcruise runs in; node_modules paths are matched
// unanchored so the rule also holds for the fixture that proves it (test/fixtures/depcheck).
const SDK = {
  aws: 'node_modules/(@aws-sdk|@smithy)/',
  kube: 'node_modules/@kubernetes/client-node/',
  fastify: 'node_modules/(fastify|@fastify/)',
};
const layer = (name) => `^src/${name}/`;
const only = (allowed) => `^src/(${allowed.join('|')})/`;

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'aws-sdk-only-in-aws',
      comment: 'Only src/aws/ imports @aws-sdk/* and the SDK\'s @smithy/* (architecture §1).',
      severity: 'error',
      from: { path: '^src/', pathNot: [layer('aws')] },
      to: { path: SDK.aws },
    },
    {
      name: 'client-node-only-in-k8s',
      comment: 'Only src/k8s/ imports @kubernetes/client-node (architecture §1).',
      severity: 'error',
      from: { path: '^src/', pathNot: [layer('k8s')] },
      to: { path: SDK.kube },
    },
    {
      name: 'fastify-only-in-kubelet-api',
      comment: 'Only src/kubelet-api/ imports fastify (architecture §1).',
      severity: 'error',
      from: { path: '^src/', pathNot: [layer('kubelet-api')] },
      to: { path: SDK.fastify },
    },
    {
      name: 'pure-core-has-no-packages',
      comment: 'domain/, catalog/ and policy/ are pure: no npm packages and no node: built-ins.',
      severity: 'error',
      from: { path: only(['domain', 'catalog', 'policy']) },
      to: { dependencyTypes: ['npm', 'npm-dev', 'npm-optional', 'npm-peer', 'npm-no-pkg', 'core', 'unknown'] },
    },
    {
      name: 'domain-imports-only-domain',
      severity: 'error',
      from: { path: layer('domain') },
      to: { path: '^src/', pathNot: layer('domain') },
    },
    {
      name: 'catalog-policy-ports-import-domain',
      comment: 'catalog/, policy/ and ports/ import domain/ (policy may also use catalog/ types).',
      severity: 'error',
      from: { path: only(['catalog', 'policy', 'ports']) },
      to: { path: '^src/', pathNot: [only(['domain', 'catalog', 'policy', 'ports'])] },
    },
    {
      name: 'provider-contract-imports-domain-and-ports',
      comment: 'provider/ is the contract every provider implements (and the env resolution they share): it knows no provider.',
      severity: 'error',
      from: { path: layer('provider') },
      to: { path: '^src/', pathNot: [only(['domain', 'ports', 'provider'])] },
    },
    {
      name: 'agent-protocol-imports-core-and-contract',
      comment: 'agent-protocol/ is the TypeScript half of the agent protocol: tags, state, assignments, user data.',
      severity: 'error',
      from: { path: layer('agent-protocol') },
      to: { path: '^src/', pathNot: [only(['domain', 'ports', 'provider', 'agent-protocol'])] },
    },
    {
      name: 'ec2-imports-core-ports-contract-and-protocol',
      comment: 'ec2/ orchestrates pods on EC2 over the ports; it never imports adapters, controllers or servers.',
      severity: 'error',
      from: { path: layer('ec2') },
      to: { path: '^src/', pathNot: [only(['domain', 'catalog', 'policy', 'ports', 'provider', 'agent-protocol', 'ec2']), '^src/observability/logger\\.ts$'] },
    },
    {
      name: 'controllers-use-the-provider-contract',
      comment: 'controllers/ and kubelet-api/ know providers only through provider/ (the contract), never the EC2, agent or logs code.',
      severity: 'error',
      from: { path: only(['controllers', 'kubelet-api']) },
      to: { path: only(['ec2', 'agent-protocol', 'logs']) },
    },
    {
      name: 'budgets-imports-core-and-ports',
      comment: 'budgets/ owns every budget\'s money over the ports (BurstBudgets, the BudgetGate it implements); it knows no adapter, provider or server.',
      severity: 'error',
      from: { path: layer('budgets') },
      to: { path: '^src/', pathNot: [only(['domain', 'policy', 'ports', 'budgets']), '^src/observability/logger\\.ts$'] },
    },
    {
      name: 'reports-imports-core-ports-and-status-read',
      comment: 'reports/ turns BurstBudget objects into `orca cost` / `orca share` reports: pure, over the ports; of budgets/ it reads only the status reader.',
      severity: 'error',
      from: { path: layer('reports') },
      to: { path: '^src/', pathNot: [only(['domain', 'policy', 'ports', 'reports']), '^src/budgets/status-read\\.ts$'] },
    },
    {
      name: 'preflight-imports-core-and-ports',
      comment: 'preflight/ decides the start-up checks and `orca doctor` over narrow probes (ports/preflight.ts); the adapters that answer them are wired by the composition root.',
      severity: 'error',
      from: { path: layer('preflight') },
      to: { path: '^src/', pathNot: only(['domain', 'ports', 'preflight']) },
    },
    {
      name: 'reports-have-no-packages',
      comment: 'reports/ is pure: no npm packages and no node: built-ins.',
      severity: 'error',
      from: { path: layer('reports') },
      to: { dependencyTypes: ['npm', 'npm-dev', 'npm-optional', 'npm-peer', 'npm-no-pkg', 'core', 'unknown'] },
    },
    {
      name: 'logs-imports-core-ports-and-contract',
      comment: 'logs/ serves kubectl logs over the LogStore port (a LogsCapable of the contract); it knows no adapter, provider or server.',
      severity: 'error',
      from: { path: layer('logs') },
      to: { path: '^src/', pathNot: [only(['domain', 'ports', 'provider', 'logs']), '^src/observability/logger\\.ts$'] },
    },
    {
      name: 'observability-imports-core-and-contract',
      severity: 'error',
      from: { path: layer('observability') },
      to: { path: '^src/', pathNot: [only(['domain', 'ports', 'provider', 'observability'])] },
    },
    {
      name: 'adapters-import-domain-and-ports',
      comment: 'aws/ and k8s/ implement ports (and log); they never import each other or the core services.',
      severity: 'error',
      from: { path: only(['aws', 'k8s']) },
      to: { path: '^src/', pathNot: [only(['domain', 'ports', 'observability']), '^src/$1/'] },
    },
    {
      name: 'controllers-never-import-adapters',
      severity: 'error',
      from: { path: only(['controllers', 'kubelet-api']) },
      to: { path: only(['aws', 'k8s', 'config']) },
    },
    {
      name: 'only-composition-root-imports-app',
      comment: 'app.ts is the composition root; only main.ts imports it.',
      severity: 'error',
      from: { path: '^src/', pathNot: '^src/main\\.ts$' },
      to: { path: '^src/app\\.ts$' },
    },
    {
      name: 'no-circular',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '\\.test\\.ts$' },
    tsPreCompilationDeps: true,
    enhancedResolveOptions: {
      extensions: ['.ts', '.js', '.json'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
    },
  },
};
