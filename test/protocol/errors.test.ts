/** SftpError, SftpProtocolError, codeForStatus and statusForErrno. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { LaterStatusCode, StatusCode, PacketType as T } from '../../src/protocol/constants.js';
import { SftpError, SftpProtocolError, codeForStatus, statusForErrno, statusName } from '../../src/protocol/errors.js';

describe('SftpError', () => {
  it('is an Error with status, code, path, op and the server message', () => {
    const e = new SftpError({ status: StatusCode.NO_SUCH_FILE, message: 'No such file', path: '/x', op: 'stat' });
    assert.ok(e instanceof Error);
    assert.ok(e instanceof SftpError);
    assert.equal(e.name, 'SftpError');
    assert.equal(e.status, 2);
    assert.equal(e.code, 'ENOENT');
    assert.equal(e.path, '/x');
    assert.equal(e.op, 'stat');
    assert.equal(e.serverMessage, 'No such file');
    assert.equal(e.message, 'ENOENT: No such file (stat "/x")');
    assert.equal(String(e), 'SftpError: ENOENT: No such file (stat "/x")');
    assert.match(e.stack ?? '', /^SftpError: ENOENT: No such file/);
  });
  it('message shape without a server message, path or op', () => {
    assert.equal(new SftpError({ status: StatusCode.PERMISSION_DENIED }).message, 'EACCES: PERMISSION_DENIED');
    assert.equal(new SftpError({ status: StatusCode.FAILURE, op: 'mkdir' }).message, 'EIO: FAILURE (mkdir)');
    assert.equal(new SftpError({ status: StatusCode.FAILURE, path: 'a b' }).message, 'EIO: FAILURE ("a b")');
    assert.equal(new SftpError({ status: 99 }).message, 'ESFTP: STATUS_99');
  });
  it('takes an errno from a FAILURE message, an explicit code, and a cause', () => {
    const cause = new Error('root');
    const e = new SftpError({
      status: StatusCode.FAILURE,
      message: 'EEXIST: file exists',
      path: '/a',
      op: 'rename',
      cause,
    });
    assert.equal(e.code, 'EEXIST');
    assert.equal(e.message, 'EEXIST: file exists (rename "/a")', 'the errno is named once');
    assert.equal(e.cause, cause);
    assert.equal(new SftpError({ status: StatusCode.FAILURE, code: 'EXDEV' }).code, 'EXDEV');
  });
  it('for every status and message: code is E-something and the message starts with it', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 0xffffffff }), fc.string({ maxLength: 30 }), (status, message) => {
        const e = new SftpError({ status, message });
        assert.match(e.code, /^E[A-Z]+$/);
        assert.ok(e.message.startsWith(e.code), e.message);
        assert.ok(!e.message.startsWith(`${e.code}: ${e.code}`), `the code is named once: ${e.message}`);
        assert.equal(e.serverMessage, message);
        assert.equal(e.code, codeForStatus(status, message));
      }),
      { numRuns: 300 },
    );
  });
});

describe('SftpError names its code once', () => {
  it('a message already led by the code is not prefixed again, whatever the status', () => {
    const cases: [number, string, string, string][] = [
      [
        StatusCode.NO_SUCH_FILE,
        'ENOENT: no such file or directory',
        'ENOENT',
        'ENOENT: no such file or directory (stat "/x")',
      ],
      [StatusCode.NO_SUCH_FILE, 'ENOTDIR: not a directory', 'ENOTDIR', 'ENOTDIR: not a directory (stat "/x")'],
      [
        StatusCode.NO_SUCH_FILE,
        'ELOOP: too many levels of symbolic links',
        'ELOOP',
        'ELOOP: too many levels of symbolic links (stat "/x")',
      ],
      [StatusCode.PERMISSION_DENIED, 'EACCES: permission denied', 'EACCES', 'EACCES: permission denied (stat "/x")'],
      [StatusCode.FAILURE, 'ENOSPC: no space left on device', 'ENOSPC', 'ENOSPC: no space left on device (stat "/x")'],
      [
        StatusCode.BAD_MESSAGE,
        'ENAMETOOLONG: file name too long',
        'ENAMETOOLONG',
        'ENAMETOOLONG: file name too long (stat "/x")',
      ],
      [
        StatusCode.OP_UNSUPPORTED,
        'ENOSYS: operation not supported',
        'ENOSYS',
        'ENOSYS: operation not supported (stat "/x")',
      ],
      [StatusCode.FAILURE, 'EEXIST', 'EEXIST', 'EEXIST (stat "/x")'],
      // An errno that does not fit the status is kept in the text, after the status's own code.
      [StatusCode.NO_SUCH_FILE, 'EEXIST: odd', 'ENOENT', 'ENOENT: EEXIST: odd (stat "/x")'],
      [StatusCode.NO_SUCH_FILE, 'No such file', 'ENOENT', 'ENOENT: No such file (stat "/x")'],
    ];
    for (const [status, message, code, text] of cases) {
      const e = new SftpError({ status, message, op: 'stat', path: '/x' });
      assert.equal(e.code, code, message);
      assert.equal(e.message, text);
    }
  });
  it('for every errno the server maps to a status, that status with "ERRNO: text" gives code ERRNO named once', () => {
    const errnos = [
      'ENOENT',
      'ENOTDIR',
      'EBADF',
      'ELOOP',
      'EPERM',
      'EACCES',
      'EROFS',
      'ENAMETOOLONG',
      'EINVAL',
      'ENOSYS',
      'EEXIST',
      'ENOSPC',
      'ENOTEMPTY',
    ];
    fc.assert(
      fc.property(fc.constantFrom(...errnos), fc.string({ maxLength: 20 }), (errno, text) => {
        const e = new SftpError({ status: statusForErrno(errno), message: `${errno}: ${text}` });
        assert.equal(e.code, errno);
        assert.equal(e.message, `${errno}: ${text}`);
      }),
      { numRuns: 200 },
    );
  });
});

describe('SftpProtocolError', () => {
  it('is an Error with a stable code, the offset and the packet type in its message', () => {
    const e = new SftpProtocolError('truncated handle', 9, T.READ);
    assert.ok(e instanceof Error);
    assert.equal(e.name, 'SftpProtocolError');
    assert.equal(e.code, 'ERR_SFTP_PROTOCOL');
    assert.equal(e.offset, 9);
    assert.equal(e.packetType, T.READ);
    assert.equal(e.message, 'truncated handle (in READ) at byte 9');
    assert.equal(new SftpProtocolError('x').message, 'x');
    assert.equal(new SftpProtocolError('x', undefined, 250).message, 'x (in UNKNOWN(250))');
  });
});

describe('codeForStatus', () => {
  it('maps each version 3 status to a Node-style code', () => {
    const expected: [number, string][] = [
      [StatusCode.OK, 'ESFTP'],
      [StatusCode.EOF, 'EOF'],
      [StatusCode.NO_SUCH_FILE, 'ENOENT'],
      [StatusCode.PERMISSION_DENIED, 'EACCES'],
      [StatusCode.FAILURE, 'EIO'],
      [StatusCode.BAD_MESSAGE, 'EBADMSG'],
      [StatusCode.NO_CONNECTION, 'ENOTCONN'],
      [StatusCode.CONNECTION_LOST, 'ECONNRESET'],
      [StatusCode.OP_UNSUPPORTED, 'ENOSYS'],
      [32, 'ESFTP'], // 9 to 31 are the later drafts' codes (below)
      [0xffffffff, 'ESFTP'],
    ];
    for (const [status, code] of expected) assert.equal(codeForStatus(status), code, statusName(status));
  });
  it('a FAILURE or PERMISSION_DENIED message that starts with a known errno name yields that errno', () => {
    assert.equal(codeForStatus(StatusCode.FAILURE, 'EEXIST: file exists'), 'EEXIST');
    assert.equal(codeForStatus(StatusCode.FAILURE, 'ENOTEMPTY'), 'ENOTEMPTY');
    assert.equal(codeForStatus(StatusCode.PERMISSION_DENIED, 'EROFS: read-only file system'), 'EROFS');
    assert.equal(codeForStatus(StatusCode.PERMISSION_DENIED, 'EPERM: operation not permitted'), 'EPERM');
  });
  it('ignores unknown errno names, errno names not at the start, and other statuses', () => {
    assert.equal(codeForStatus(StatusCode.FAILURE, 'EFOO: what'), 'EIO');
    assert.equal(codeForStatus(StatusCode.FAILURE, 'EEXISTS: no such errno'), 'EIO');
    assert.equal(codeForStatus(StatusCode.FAILURE, 'failed: EEXIST'), 'EIO');
    assert.equal(codeForStatus(StatusCode.NO_SUCH_FILE, 'EEXIST: odd'), 'ENOENT');
    assert.equal(codeForStatus(StatusCode.EOF, 'ENOSPC: odd'), 'EOF');
  });
});

describe('statusForErrno', () => {
  it("follows OpenSSH's errno_to_portable, refined", () => {
    const expected: [string | undefined, number][] = [
      ['ENOENT', StatusCode.NO_SUCH_FILE],
      ['ENOTDIR', StatusCode.NO_SUCH_FILE],
      ['EBADF', StatusCode.NO_SUCH_FILE],
      ['ELOOP', StatusCode.NO_SUCH_FILE],
      ['EPERM', StatusCode.PERMISSION_DENIED],
      ['EACCES', StatusCode.PERMISSION_DENIED],
      ['EFAULT', StatusCode.PERMISSION_DENIED],
      ['EROFS', StatusCode.PERMISSION_DENIED],
      ['ENAMETOOLONG', StatusCode.BAD_MESSAGE],
      ['EINVAL', StatusCode.BAD_MESSAGE],
      ['ENOSYS', StatusCode.OP_UNSUPPORTED],
      ['ENOTSUP', StatusCode.OP_UNSUPPORTED],
      ['EOPNOTSUPP', StatusCode.OP_UNSUPPORTED],
      ['EEXIST', StatusCode.FAILURE],
      ['ENOSPC', StatusCode.FAILURE],
      [undefined, StatusCode.FAILURE],
      ['', StatusCode.FAILURE],
    ];
    for (const [errno, status] of expected) assert.equal(statusForErrno(errno), status, String(errno));
  });
  it('a server that sends "<ERRNO>: ..." as FAILURE or PERMISSION_DENIED lets the client recover the errno', () => {
    const errnos = [
      'EEXIST',
      'ENOTEMPTY',
      'EISDIR',
      'ENOSPC',
      'EDQUOT',
      'EXDEV',
      'EROFS',
      'EBUSY',
      'EMFILE',
      'EFBIG',
      'ETXTBSY',
      'EMLINK',
      'EPERM',
    ];
    for (const errno of errnos) {
      const status = statusForErrno(errno);
      assert.ok(status === StatusCode.FAILURE || status === StatusCode.PERMISSION_DENIED, errno);
      assert.equal(codeForStatus(status, `${errno}: detail`), errno);
    }
  });
  it('the statuses a file system error can produce map back to their own code', () => {
    for (const status of [
      StatusCode.NO_SUCH_FILE,
      StatusCode.PERMISSION_DENIED,
      StatusCode.FAILURE,
      StatusCode.OP_UNSUPPORTED,
    ]) {
      assert.equal(statusForErrno(codeForStatus(status)), status, statusName(status));
    }
  });
});

describe('status codes of the later drafts (sent by some servers to version 3 clients)', () => {
  it('map to the code Node fs would give, and are named', () => {
    const expected: Array<[number, string, string]> = [
      [9, 'INVALID_HANDLE', 'EBADF'],
      [10, 'NO_SUCH_PATH', 'ENOENT'],
      [11, 'FILE_ALREADY_EXISTS', 'EEXIST'],
      [12, 'WRITE_PROTECT', 'EROFS'],
      [13, 'NO_MEDIA', 'ENODEV'],
      [14, 'NO_SPACE_ON_FILESYSTEM', 'ENOSPC'],
      [15, 'QUOTA_EXCEEDED', 'EDQUOT'],
      [16, 'UNKNOWN_PRINCIPAL', 'EINVAL'],
      [17, 'LOCK_CONFLICT', 'EBUSY'],
      [18, 'DIR_NOT_EMPTY', 'ENOTEMPTY'],
      [19, 'NOT_A_DIRECTORY', 'ENOTDIR'],
      [20, 'INVALID_FILENAME', 'EINVAL'],
      [21, 'LINK_LOOP', 'ELOOP'],
      [22, 'CANNOT_DELETE', 'EPERM'],
      [23, 'INVALID_PARAMETER', 'EINVAL'],
      [24, 'FILE_IS_A_DIRECTORY', 'EISDIR'],
      [25, 'BYTE_RANGE_LOCK_CONFLICT', 'EAGAIN'],
      [26, 'BYTE_RANGE_LOCK_REFUSED', 'ENOLCK'],
      [27, 'DELETE_PENDING', 'EBUSY'],
      [28, 'FILE_CORRUPT', 'EIO'],
      [29, 'OWNER_INVALID', 'EINVAL'],
      [30, 'GROUP_INVALID', 'EINVAL'],
      [31, 'NO_MATCHING_BYTE_RANGE_LOCK', 'ENOLCK'],
    ];
    assert.equal(Object.keys(LaterStatusCode).length, expected.length);
    for (const [status, name, code] of expected) {
      assert.equal((LaterStatusCode as Record<string, number>)[name], status);
      assert.equal(statusName(status), name);
      assert.equal(codeForStatus(status), code, name);
      assert.equal(codeForStatus(status, 'whatever the server says'), code, name);
      const e = new SftpError({ status, message: 'File exists', op: 'mkdir', path: '/d' });
      assert.equal(e.code, code);
      assert.equal(e.message, `${code}: File exists (mkdir "/d")`);
    }
    assert.equal(codeForStatus(32), 'ESFTP');
  });
});
