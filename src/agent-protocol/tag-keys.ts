// The key of every tag ORCA or its agent writes on a burst instance: kept in the registry of every
// orca.research/* key (domain/keys.ts).
export { TAG } from '../domain/keys.js';
