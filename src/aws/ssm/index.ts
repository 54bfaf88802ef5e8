// What the rest of ORCA needs from the Session Manager client: the SessionManager implementation
// (wired in app.ts) and the knobs its deps take.
export { SsmSessionManager, portForwardingDocument, type SsmSessionManagerDeps } from './session-manager.js';
export { defaultClientVersion, defaultTuning, systemTimers, type ChannelTimers, type ChannelTuning, type SessionLog } from './channel-config.js';
