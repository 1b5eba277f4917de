// The scripted in-process SFTP server lives in bench/lib/peers (bench/list-heap.ts uses it too).
export * from '../../bench/lib/peers/fake-sftp-server.js';
