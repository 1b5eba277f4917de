// The public API, exactly: the runtime exports of the main entry ('sftp-wire') and of
// 'sftp-wire/advanced', and the package.json subpaths that lead to them. Adding or removing an export
// is a change of the API and must change this list with it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as main from '../../src/index.js';
import * as advanced from '../../src/advanced.js';
import * as protocol from '../../src/protocol/index.js';

const MAIN = [
  'AbortError',
  'FileType',
  'FsError',
  'HostKeyError',
  'LocalFs',
  'MemoryFs',
  'OpenFlags',
  'SftpBadReplyError',
  'SftpClient',
  'SftpError',
  'SftpProtocolError',
  'SftpServer',
  'SourceChangedError',
  'StatusCode',
  'TreeError',
  'VerifyError',
  'formatSftpUrl',
  'generateEd25519KeyPair',
  'hashPassword',
  'isSftpUrl',
  'keyMatches',
  'knownHostsCheck',
  'loadOrCreateHostKey',
  'parseSftpUrl',
  'startSftpSshServer',
  'stdioDuplex',
  'verifyPassword',
  'writeEd25519KeyPair',
];

const ADVANCED = [
  'ATOMIC_SUFFIX',
  'BufferSource',
  'DEFAULT_ABORT_GRACE_MS',
  'DEFAULT_HANDSHAKE_TIMEOUT_MS',
  'DEFAULT_LIMITS',
  'DEFAULT_LIST_MAX_ENTRIES',
  'DEFAULT_LOGIN_GRACE_MS',
  'DEFAULT_MAX_CONNECTIONS',
  'DEFAULT_MAX_SERVER_HANDLES',
  'DEFAULT_MAX_SESSIONS',
  'DEFAULT_MAX_STARTUPS',
  'DEFAULT_REQUESTS',
  'DEFAULT_TREE_BYTES',
  'DEFAULT_TREE_REQUESTS',
  'FileSource',
  'MAX_DEFAULT_CHUNK',
  'OutputMeter',
  'RESUME_SUFFIX',
  'SESSION_MAX_BYTES',
  'SESSION_MAX_REQUESTS',
  'SFTP_RECEIVE_WINDOW',
  'Session',
  'atomicTempName',
  'connectSsh',
  'defaultStateDir',
  'meterSocket',
  'openSftpChannel',
  'raiseReceiveWindow',
  'readChunks',
  'resumePartialMatcher',
  'resumePartialName',
  'writeChunks',
];

test("'sftp-wire' exports exactly the client, the server, the transports, the errors and the protocol values users meet", () => {
  assert.deepEqual(Object.keys(main).sort(), MAIN);
});

test("'sftp-wire/advanced' exports exactly the session, the engines, the defaults, the SSH channel pieces, the output meter and the partial names", () => {
  assert.deepEqual(Object.keys(advanced).sort(), ADVANCED);
});

test("the two entries share no name, and the main entry's errors are the classes the protocol entry throws", () => {
  assert.deepEqual(
    MAIN.filter((n) => ADVANCED.includes(n)),
    [],
  );
  assert.equal(main.SftpError, protocol.SftpError);
  assert.equal(main.StatusCode, protocol.StatusCode);
});

test('package.json leads each subpath to its entry (types from tsc, code from the bundle scripts/bundle.mjs builds)', () => {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
    exports: Record<string, { types: string; import: string }>;
  };
  assert.deepEqual(Object.keys(pkg.exports).sort(), ['.', './advanced', './protocol']);
  assert.deepEqual(pkg.exports['.'], { types: './dist/src/index.d.ts', import: './dist/bundle/index.js' });
  assert.deepEqual(pkg.exports['./advanced'], {
    types: './dist/src/advanced.d.ts',
    import: './dist/bundle/advanced.js',
  });
  assert.deepEqual(pkg.exports['./protocol'], {
    types: './dist/src/protocol/index.d.ts',
    import: './dist/bundle/protocol/index.js',
  });
});
