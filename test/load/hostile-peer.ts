// The bounds server child and the misbehaving SSH peers live in bench/lib/peers: bench/server-memory.ts uses them too.
export * from '../../bench/lib/peers/hostile-peer.js';
