// The public entry of sftp-wire: the client, the server, the transports at the edge, and the
// protocol's errors and constants. The whole codec is at 'sftp-wire/protocol'.
export {
  SftpClient,
  AbortError,
  SourceChangedError,
  DEFAULT_LIMITS,
  DEFAULT_LIST_MAX_ENTRIES,
  parseSftpUrl,
  formatSftpUrl,
  Session,
  putTree,
  getTree,
  rmtree,
  TreeError,
  VerifyError,
  atomicTempName,
  resumePartialName,
  defaultStateDir,
} from './client/index.js';
export type {
  ClientOptions,
  DirEntry,
  RequestOptions,
  ExtendedReply,
  CheckFileOptions,
  OpenMode,
  ScandirOptions,
  ListOptions,
  TransferOptions,
  TransferResult,
  TransferProgress,
  ReadStreamOptions,
  WriteStreamOptions,
  SftpUrl,
  TreeOptions,
  TreeResult,
  TreeProgress,
  TreeEntryError,
  RmtreeOptions,
  SymlinkMode,
} from './client/index.js';

export { SftpServer, LocalFs, MemoryFs, FsError, DEFAULT_MAX_SERVER_HANDLES, OutputMeter, WRITE_OVERHEAD } from './server/index.js';
export type {
  ServeOptions,
  SftpServerStats,
  SftpServerOptions,
  ServerLimits,
  AtomicUploadMode,
  FileSystem,
  FileStats,
  SetStats,
  OpenOptions,
  FsFile,
  FsDir,
  FsDirEntry,
  FsStatVfs,
} from './server/index.js';

export { startSftpSshServer, loadOrCreateHostKey } from './transport/ssh-server.js';
export { generateEd25519KeyPair, writeEd25519KeyPair } from './transport/keys.js';
export type { SshKeyPair } from './transport/keys.js';
export type { SftpSshServerOptions, RunningSftpSshServer, SshUser, SshServerStats } from './transport/ssh-server.js';
export { connectSsh, openSftpChannel, raiseReceiveWindow, SFTP_RECEIVE_WINDOW } from './transport/ssh-client.js';
export { writeBehindFileSink, WRITE_BEHIND_BYTES } from './client/engine/write-behind.js';
export { DEFAULT_ABORT_GRACE_MS } from './client/core/close-handle.js';
export { DEFAULT_HANDSHAKE_TIMEOUT_MS } from './client/core/handshake-deadline.js';
export { DEFAULT_MAX_CONNECTIONS, DEFAULT_MAX_SESSIONS, DEFAULT_LOGIN_GRACE_MS, DEFAULT_MAX_STARTUPS } from './transport/ssh-server.js';
export { stdioDuplex } from './transport/stdio.js';
export { knownHostsCheck, HostKeyError } from './cli/connect.js';
export type { HostKeyCheck, KnownHostsCheck } from './cli/connect.js';

export * from './protocol/errors.js';
export { PacketType, OpenFlags, AttrFlags, StatusCode, LaterStatusCode, FileType } from './protocol/constants.js';
export type { Attrs } from './protocol/attrs.js';
export type { StatVfs, Limits, CheckFileReply } from './protocol/extensions.js';
