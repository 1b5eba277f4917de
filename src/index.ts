// The public entry of sftp-wire: the client, the server, the transports at the edge, the errors users
// catch, and the option and result types. The codec is at 'sftp-wire/protocol'; the session for raw
// requests, the transfer engines, the defaults and the lower transport pieces at 'sftp-wire/advanced'.
// test/package/public-api.test.ts holds the exact lists: a change here is a change of the API.

// ---- the client ----------------------------------------------------------------------------------
export { SftpClient } from './client/client.js';
export { parseSftpUrl, formatSftpUrl, isSftpUrl } from './client/url.js';
export type { SftpUrl } from './client/url.js';
export type { ClientOptions, ListOptions } from './client/client.js';
export type { DirEntry, ExtendedReply, CheckFileOptions } from './client/core/remote.js';
export type { RequestOptions } from './client/core/session.js';
export type { OpenMode } from './client/core/flags.js';
export type { ScandirOptions } from './client/file/scandir.js';
export type { TransferOptions, TransferResult, TransferProgress, VerifyMode } from './client/file/transfer-options.js';
export type { ReadStreamOptions, WriteStreamOptions } from './client/file/streams.js';
export type {
  TreeOptions,
  TreeResult,
  TreeProgress,
  TreeEntryError,
  RmtreeOptions,
  SymlinkMode,
} from './client/tree/types.js';

// ---- the server ----------------------------------------------------------------------------------
export { SftpServer } from './server/sftp-server.js';
export { LocalFs } from './server/fs/local-fs.js';
export { MemoryFs } from './server/fs/memory-fs.js';
export type { MemoryFsOptions } from './server/fs/memory-fs.js';
export type { ServeOptions, SftpServerStats } from './server/sftp-server.js';
export type { SftpServerOptions, ServerLimits, AtomicUploadMode } from './server/options.js';
export type { SessionSettings } from './server/session-settings.js';
export type { TransferReport, TransferListener } from './server/transfer-report.js';
export type {
  FileSystem,
  FileStats,
  SetStats,
  OpenOptions,
  FsFile,
  FsDir,
  FsDirEntry,
  FsStatVfs,
} from './server/fs/file-system.js';

// ---- transports ----------------------------------------------------------------------------------
export { startSftpSshServer } from './transport/start-ssh-server.js';
export type { SftpSshServerOptions, RunningSftpSshServer, SshUser, SshServerStats } from './transport/ssh-server.js';
export { generateEd25519KeyPair, writeEd25519KeyPair, loadOrCreateHostKey } from './transport/keys.js';
export type { SshKeyPair } from './transport/keys.js';
export type { SshIdentity, SshSessionInfo, SessionFactory } from './transport/ssh-server.js';
export { keyMatches } from './transport/ssh-auth.js';
export type {
  AuthHook,
  AuthAttempt,
  AuthMethod,
  AuthVerdict,
  PasswordAttempt,
  PublicKeyAttempt,
  KeyboardInteractiveAttempt,
  KeyboardPrompt,
  OfferedKey,
  LoginFailure,
} from './transport/ssh-auth.js';
export type {
  SshServerEvents,
  SshServerEventName,
  LoginEvent,
  LoginFailedEvent,
  TransferEvent,
} from './transport/ssh-events.js';
export { hashPassword, verifyPassword } from './transport/password-hash.js';
export { stdioDuplex } from './transport/stdio.js';
export { knownHostsCheck } from './transport/host-key-check.js';
export type { HostKeyCheck, KnownHostsCheck, KnownHostsOptions, HostKeyErrorCode } from './transport/host-key-check.js';

// ---- errors --------------------------------------------------------------------------------------
export { SftpError, SftpProtocolError, SftpBadReplyError } from './protocol/errors.js';
export type { SftpErrorInit } from './protocol/errors.js';
export { AbortError, SourceChangedError } from './client/core/errors.js';
export { VerifyError } from './client/file/atomic/verify-error.js';
export { TreeError } from './client/tree/types.js';
export { HostKeyError } from './transport/host-key-check.js';
export { FsError } from './server/fs/fs-error.js';

// ---- protocol values users meet in attributes, flags and errors ----------------------------------
export { StatusCode, OpenFlags, FileType } from './protocol/constants.js';
export type { Attrs } from './protocol/attrs.js';
export type { StatVfs, Limits, CheckFileReply } from './protocol/extensions.js';
