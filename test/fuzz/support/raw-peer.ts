// The raw SFTP peer lives in bench/lib/peers (bench/server-memory.ts uses it too).
export * from '../../../bench/lib/peers/raw-peer.js';
