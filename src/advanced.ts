// 'sftp-wire/advanced': pieces for tool authors, beyond the client and server of the main entry. The
// session sends raw requests (any packet, its reply as decoded); the engines keep many READs or WRITEs
// in flight on a handle you opened; the defaults are the numbers the client and server start from;
// the SSH pieces open the SFTP channel on a connection of your own; the output meter bounds what a
// server on a transport of your own holds for one connection (ServeOptions.connection); the partial
// names are what atomic and resumable transfers leave next to a destination.
// test/package/public-api.test.ts holds the list.

export { Session } from './client/core/session.js';
export type { SessionOptions, RequestBody, ReplyPacket } from './client/core/session.js';
export { readChunks } from './client/engine/read-chunks.js';
export type { ReadChunksOptions, ChunkReader } from './client/engine/read-chunks.js';
export { writeChunks, FileSource, BufferSource } from './client/engine/write-chunks.js';
export type { WriteChunksOptions, ChunkWriter, ChunkSource } from './client/engine/write-chunks.js';

export {
  DEFAULT_LIMITS,
  DEFAULT_REQUESTS,
  MAX_DEFAULT_CHUNK,
  DEFAULT_LIST_MAX_ENTRIES,
  DEFAULT_ABORT_GRACE_MS,
  DEFAULT_HANDSHAKE_TIMEOUT_MS,
  SESSION_MAX_REQUESTS,
  SESSION_MAX_BYTES,
  DEFAULT_TREE_REQUESTS,
  DEFAULT_TREE_BYTES,
} from './client/defaults.js';
export { DEFAULT_MAX_SERVER_HANDLES } from './server/options.js';
export {
  DEFAULT_MAX_CONNECTIONS,
  DEFAULT_MAX_SESSIONS,
  DEFAULT_LOGIN_GRACE_MS,
  DEFAULT_MAX_STARTUPS,
} from './transport/ssh-server-defaults.js';

export { OutputMeter, meterSocket } from './server/output-meter.js';

export { connectSsh } from './transport/ssh-client.js';
export { openSftpChannel, raiseReceiveWindow, SFTP_RECEIVE_WINDOW } from './transport/ssh-channel.js';
export type { SshConnection, SshConnectConfig } from './transport/ssh-channel.js';

export {
  atomicTempName,
  resumePartialName,
  resumePartialMatcher,
  ATOMIC_SUFFIX,
  RESUME_SUFFIX,
} from './client/file/atomic/partial-names.js';
export { defaultStateDir } from './client/file/atomic/resume-checkpoint.js';
