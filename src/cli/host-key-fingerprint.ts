/** The fingerprint `serve` prints at start (the key handling is the transport's). */
export { hostKeyFingerprint } from '../transport/keys.js';
