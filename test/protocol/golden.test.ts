/**
 * Golden bytes for every SFTP v3 packet type, written by hand from draft-ietf-secsh-filexfer-02
 * (sections 3 to 7; ATTRS in section 5), and for the extension bodies of OpenSSH's PROTOCOL file
 * section 4 and of check-file (draft-ietf-secsh-filexfer-extensions-00). A few vectors are marked
 * "captured": bytes that OpenSSH 9.2p1's sftp-server really sent, recorded once from
 * /usr/lib/openssh/sftp-server, so the hand-written layouts are checked against a real peer too.
 *
 * Every packet vector includes the uint32 length prefix; decodePacket gets the payload after it.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { bytes } from './bytes-literal.js';
import { PacketType as T, OpenFlags, StatusCode } from '../../src/protocol/constants.js';
import { decodePacket, encodePacket, encodePacketToBuffer, type Packet } from '../../src/protocol/packets.js';
import { SftpProtocolError } from '../../src/protocol/errors.js';
import {
  Extensions,
  decodeExtensionReply,
  decodeExtensionRequest,
  encodeExtensionReply,
  encodeExtensionRequest,
  extensionKeyByName,
  type ExtensionKey,
} from '../../src/protocol/extensions.js';

const b = (s: string) => Buffer.from(s, 'latin1');

interface Golden {
  name: string;
  packet: Packet;
  wire: Buffer;
}

const goldens: Golden[] = [
  {
    name: 'INIT',
    packet: { type: T.INIT, version: 3, extensions: [] },
    wire: bytes`
      00000005            # length: 1 + 4
      01                  # SSH_FXP_INIT
      00000003            # version 3 (no request id in INIT)
    `,
  },
  {
    name: 'VERSION with extension name/data pairs',
    packet: {
      type: T.VERSION,
      version: 3,
      extensions: [
        { name: 'posix-rename@openssh.com', data: b('1') },
        { name: 'statvfs@openssh.com', data: b('2') },
      ],
    },
    wire: bytes`
      00000042            # length 66: 1 + 4 + (4+24) + (4+1) + (4+19) + (4+1)
      02                  # SSH_FXP_VERSION
      00000003            # version 3
      00000018 "posix-rename@openssh.com"   # extension name, 24 bytes
      00000001 "1"                          # extension data
      00000013 "statvfs@openssh.com"        # extension name, 19 bytes
      00000001 "2"                          # extension data
    `,
  },
  {
    name: 'OPEN',
    packet: {
      type: T.OPEN,
      id: 1,
      path: '/tmp/a.txt',
      pflags: OpenFlags.WRITE | OpenFlags.CREAT | OpenFlags.TRUNC,
      attrs: { permissions: 0o644 },
    },
    wire: bytes`
      0000001f            # length 31: 1 + 4 + (4+10) + 4 + (4+4)
      03                  # SSH_FXP_OPEN
      00000001            # request id 1
      0000000a "/tmp/a.txt"  # filename
      0000001a            # pflags WRITE(02) | CREAT(08) | TRUNC(10)
      00000004            # attrs flags: PERMISSIONS
      000001a4            # permissions 0644
    `,
  },
  {
    name: 'CLOSE',
    packet: { type: T.CLOSE, id: 2, handle: Buffer.from([0, 1, 2, 3]) },
    wire: bytes`
      0000000d            # length 13: 1 + 4 + (4+4)
      04                  # SSH_FXP_CLOSE
      00000002            # request id 2
      00000004 00010203   # handle, 4 opaque bytes
    `,
  },
  {
    name: 'READ with a 64-bit offset above 2^32',
    packet: { type: T.READ, id: 3, handle: Buffer.from('deadbeef', 'hex'), offset: 2 ** 32, length: 32768 },
    wire: bytes`
      00000019            # length 25: 1 + 4 + (4+4) + 8 + 4
      05                  # SSH_FXP_READ
      00000003            # request id 3
      00000004 deadbeef   # handle
      00000001 00000000   # offset 2^32 (uint64)
      00008000            # len 32768
    `,
  },
  {
    name: 'WRITE',
    packet: { type: T.WRITE, id: 4, handle: Buffer.from('deadbeef', 'hex'), offset: 2 ** 32 + 5, data: b('hello') },
    wire: bytes`
      0000001e            # length 30: 1 + 4 + (4+4) + 8 + (4+5)
      06                  # SSH_FXP_WRITE
      00000004            # request id 4
      00000004 deadbeef   # handle
      00000001 00000005   # offset 2^32 + 5
      00000005 "hello"    # data
    `,
  },
  {
    name: 'LSTAT',
    packet: { type: T.LSTAT, id: 5, path: '/etc' },
    wire: bytes`
      0000000d            # length 13: 1 + 4 + (4+4)
      07                  # SSH_FXP_LSTAT
      00000005            # request id 5
      00000004 "/etc"     # path
    `,
  },
  {
    name: 'FSTAT',
    packet: { type: T.FSTAT, id: 6, handle: Buffer.from([1]) },
    wire: bytes`
      0000000a            # length 10: 1 + 4 + (4+1)
      08                  # SSH_FXP_FSTAT
      00000006            # request id 6
      00000001 01         # handle
    `,
  },
  {
    name: 'SETSTAT',
    packet: { type: T.SETSTAT, id: 7, path: 'f', attrs: { uid: 1000, gid: 100, atime: 0x5f5e1000, mtime: 0x65000000 } },
    wire: bytes`
      0000001e            # length 30: 1 + 4 + (4+1) + 4 + 8 + 8
      09                  # SSH_FXP_SETSTAT
      00000007            # request id 7
      00000001 "f"        # path
      0000000a            # attrs flags: UIDGID(02) | ACMODTIME(08)
      000003e8 00000064   # uid 1000, gid 100
      5f5e1000 65000000   # atime, mtime
    `,
  },
  {
    name: 'FSETSTAT',
    packet: { type: T.FSETSTAT, id: 8, handle: Buffer.from([1, 2]), attrs: { size: 4096 } },
    wire: bytes`
      00000017            # length 23: 1 + 4 + (4+2) + 4 + 8
      0a                  # SSH_FXP_FSETSTAT
      00000008            # request id 8
      00000002 0102       # handle
      00000001            # attrs flags: SIZE
      00000000 00001000   # size 4096 (uint64)
    `,
  },
  {
    name: 'OPENDIR',
    packet: { type: T.OPENDIR, id: 9, path: '/' },
    wire: bytes`
      0000000a            # length 10: 1 + 4 + (4+1)
      0b                  # SSH_FXP_OPENDIR
      00000009            # request id 9
      00000001 "/"        # path
    `,
  },
  {
    name: 'READDIR',
    packet: { type: T.READDIR, id: 10, handle: b('d1') },
    wire: bytes`
      0000000b            # length 11: 1 + 4 + (4+2)
      0c                  # SSH_FXP_READDIR
      0000000a            # request id 10
      00000002 "d1"       # handle
    `,
  },
  {
    name: 'REMOVE',
    packet: { type: T.REMOVE, id: 11, path: 'x' },
    wire: bytes`
      0000000a            # length 10
      0d                  # SSH_FXP_REMOVE
      0000000b            # request id 11
      00000001 "x"        # filename
    `,
  },
  {
    name: 'MKDIR',
    packet: { type: T.MKDIR, id: 12, path: 'dir', attrs: { permissions: 0o755 } },
    wire: bytes`
      00000014            # length 20: 1 + 4 + (4+3) + 4 + 4
      0e                  # SSH_FXP_MKDIR
      0000000c            # request id 12
      00000003 "dir"      # path
      00000004 000001ed   # attrs: PERMISSIONS, 0755
    `,
  },
  {
    name: 'RMDIR',
    packet: { type: T.RMDIR, id: 13, path: 'dir' },
    wire: bytes`
      0000000c            # length 12: 1 + 4 + (4+3)
      0f                  # SSH_FXP_RMDIR
      0000000d            # request id 13
      00000003 "dir"      # path
    `,
  },
  {
    name: 'REALPATH',
    packet: { type: T.REALPATH, id: 14, path: '.' },
    wire: bytes`
      0000000a            # length 10
      10                  # SSH_FXP_REALPATH
      0000000e            # request id 14
      00000001 "."        # path
    `,
  },
  {
    name: 'STAT',
    packet: { type: T.STAT, id: 15, path: 'a' },
    wire: bytes`
      0000000a            # length 10
      11                  # SSH_FXP_STAT
      0000000f            # request id 15
      00000001 "a"        # path
    `,
  },
  {
    name: 'RENAME',
    packet: { type: T.RENAME, id: 16, oldPath: 'a', newPath: 'b' },
    wire: bytes`
      0000000f            # length 15: 1 + 4 + (4+1) + (4+1)
      12                  # SSH_FXP_RENAME
      00000010            # request id 16
      00000001 "a"        # oldpath
      00000001 "b"        # newpath
    `,
  },
  {
    name: 'READLINK',
    packet: { type: T.READLINK, id: 17, path: 'l' },
    wire: bytes`
      0000000a            # length 10
      13                  # SSH_FXP_READLINK
      00000011            # request id 17
      00000001 "l"        # path
    `,
  },
  {
    name: 'SYMLINK (fields in wire order; OpenSSH sends the target first)',
    packet: { type: T.SYMLINK, id: 18, first: 't', second: 'l' },
    wire: bytes`
      0000000f            # length 15
      14                  # SSH_FXP_SYMLINK
      00000012            # request id 18
      00000001 "t"        # first path (draft: linkpath; OpenSSH: targetpath)
      00000001 "l"        # second path (draft: targetpath; OpenSSH: linkpath)
    `,
  },
  {
    name: 'STATUS',
    packet: { type: T.STATUS, id: 19, code: StatusCode.NO_SUCH_FILE, message: 'No such file', lang: 'en' },
    wire: bytes`
      0000001f            # length 31: 1 + 4 + 4 + (4+12) + (4+2)
      65                  # SSH_FXP_STATUS (101)
      00000013            # request id 19
      00000002            # SSH_FX_NO_SUCH_FILE
      0000000c "No such file"  # error message
      00000002 "en"       # language tag
    `,
  },
  {
    name: 'HANDLE',
    packet: { type: T.HANDLE, id: 20, handle: Buffer.from([0, 0, 0, 1]) },
    wire: bytes`
      0000000d            # length 13: 1 + 4 + (4+4)
      66                  # SSH_FXP_HANDLE (102)
      00000014            # request id 20
      00000004 00000001   # handle
    `,
  },
  {
    name: 'DATA',
    packet: { type: T.DATA, id: 21, data: b('abc') },
    wire: bytes`
      0000000c            # length 12: 1 + 4 + (4+3)
      67                  # SSH_FXP_DATA (103)
      00000015            # request id 21
      00000003 "abc"      # data
    `,
  },
  {
    name: 'NAME with two entries',
    packet: {
      type: T.NAME,
      id: 22,
      entries: [
        { filename: 'a', longname: 'la', attrs: { size: 5, permissions: 0o100644 } },
        { filename: '..', longname: '', attrs: {} },
      ],
    },
    wire: bytes`
      00000032            # length 50: 1 + 4 + 4 + 27 + 14
      68                  # SSH_FXP_NAME (104)
      00000016            # request id 22
      00000002            # count 2
      00000001 "a"        # [0] filename
      00000002 "la"       # [0] longname
      00000005            # [0] attrs flags: SIZE | PERMISSIONS
      00000000 00000005   # [0] size 5
      000081a4            # [0] permissions 0100644 (regular file, 0644)
      00000002 ".."       # [1] filename
      00000000            # [1] longname, empty
      00000000            # [1] attrs flags: none
    `,
  },
  {
    name: 'ATTRS with every flag, including two extended pairs',
    packet: {
      type: T.ATTRS,
      id: 23,
      attrs: {
        size: 2 ** 32 + 1,
        uid: 0,
        gid: 0,
        permissions: 0o40755,
        atime: 1,
        mtime: 2,
        extended: [
          { type: 'foo@example.com', data: Buffer.from([1, 2, 3]) },
          { type: 'x', data: Buffer.alloc(0) },
        ],
      },
    },
    wire: bytes`
      0000004c            # length 76: 1 + 4 + 4 + 8 + 8 + 4 + 8 + 4 + (4+15) + (4+3) + (4+1) + (4+0)
      69                  # SSH_FXP_ATTRS (105)
      00000017            # request id 23
      8000000f            # flags: EXTENDED | ACMODTIME | PERMISSIONS | UIDGID | SIZE
      00000001 00000001   # size 2^32 + 1
      00000000 00000000   # uid 0, gid 0
      000041ed            # permissions 040755 (directory, 0755)
      00000001 00000002   # atime 1, mtime 2
      00000002            # extended_count 2
      0000000f "foo@example.com"  # extended_type
      00000003 010203             # extended_data
      00000001 "x"                # extended_type
      00000000                    # extended_data, empty
    `,
  },
  {
    name: 'EXTENDED',
    packet: { type: T.EXTENDED, id: 24, request: 'posix-rename@openssh.com', data: bytes`00000001 "a" 00000001 "b"` },
    wire: bytes`
      0000002b            # length 43: 1 + 4 + (4+24) + 10
      c8                  # SSH_FXP_EXTENDED (200)
      00000018            # request id 24
      00000018 "posix-rename@openssh.com"  # extended-request
      00000001 "a" 00000001 "b"            # request-specific data, not length-prefixed
    `,
  },
  {
    name: 'EXTENDED_REPLY',
    packet: { type: T.EXTENDED_REPLY, id: 25, data: Buffer.from([1, 2, 3, 4]) },
    wire: bytes`
      00000009            # length 9: 1 + 4 + 4
      c9                  # SSH_FXP_EXTENDED_REPLY (201)
      00000019            # request id 25
      01020304            # reply-specific data, the rest of the packet
    `,
  },
];

describe('golden bytes: every packet type (draft-ietf-secsh-filexfer-02)', () => {
  it('covers all 27 packet types', () => {
    const covered = new Set(goldens.map((g) => g.packet.type));
    assert.deepEqual(
      [...covered].sort((x, y) => x - y),
      Object.values(T).sort((x, y) => x - y),
    );
  });
  for (const g of goldens) {
    it(`${g.name}: encode gives the bytes, decode gives the packet`, () => {
      assert.equal(g.wire.readUInt32BE(0), g.wire.length - 4, 'hand-written length prefix');
      assert.deepEqual(encodePacketToBuffer(g.packet), g.wire);
      assert.deepEqual(Buffer.concat(encodePacket(g.packet)), g.wire);
      assert.deepEqual(decodePacket(g.wire.subarray(4)), g.packet);
    });
  }
});

describe('golden bytes: captured from OpenSSH 9.2p1 sftp-server', () => {
  it('STATUS OK "Success" with an empty language tag', () => {
    const wire = bytes`
      00000018 65 00000004  # length 24, STATUS, id 4
      00000000              # SSH_FX_OK
      00000007 "Success"    # message
      00000000              # language tag, empty
    `;
    const p = { type: T.STATUS, id: 4, code: StatusCode.OK, message: 'Success', lang: '' } as const;
    assert.deepEqual(decodePacket(wire.subarray(4)), p);
    assert.deepEqual(encodePacketToBuffer(p), wire);
  });
  it('NAME answering REALPATH "/tmp": longname is the path, attrs empty', () => {
    const wire = bytes`
      0000001d 68 00000006  # length 29, NAME, id 6
      00000001              # count 1
      00000004 "/tmp"       # filename
      00000004 "/tmp"       # longname
      00000000              # attrs flags: none
    `;
    const p: Packet = { type: T.NAME, id: 6, entries: [{ filename: '/tmp', longname: '/tmp', attrs: {} }] };
    assert.deepEqual(decodePacket(wire.subarray(4)), p);
    assert.deepEqual(encodePacketToBuffer(p), wire);
  });
  it('the extension names and versions OpenSSH advertises match our Extensions table', () => {
    const advertised: [string, string][] = [
      ['posix-rename@openssh.com', '1'],
      ['statvfs@openssh.com', '2'],
      ['fstatvfs@openssh.com', '2'],
      ['hardlink@openssh.com', '1'],
      ['fsync@openssh.com', '1'],
      ['lsetstat@openssh.com', '1'],
      ['limits@openssh.com', '1'],
      ['expand-path@openssh.com', '1'],
      ['copy-data', '1'],
      ['home-directory', '1'],
      ['users-groups-by-id@openssh.com', '1'],
    ];
    for (const [name, version] of advertised) {
      const key = extensionKeyByName(name);
      assert.ok(key, `${name} is known`);
      assert.equal(Extensions[key].version, version, name);
    }
    assert.equal(extensionKeyByName('discard-handle@sftp-wire'), 'discardHandle');
    assert.equal(Extensions.discardHandle.version, '1');
    assert.equal(Extensions.discardHandle.reply.kind, 'status');
    assert.equal(extensionKeyByName('check-file-name'), 'checkFileName');
    assert.equal(extensionKeyByName('check-file-handle'), 'checkFileHandle');
    assert.equal(extensionKeyByName('no-such@example.com'), undefined);
  });
});

describe('golden bytes: 64-bit fields', () => {
  const readWith = (offsetHex: string) =>
    Buffer.concat([bytes`05 00000001 00000001 68`, Buffer.from(offsetHex, 'hex'), bytes`00000010`]);
  it('2^53-1 decodes exactly', () => {
    const p = decodePacket(readWith('001fffffffffffff'));
    assert.equal(p.type === T.READ && p.offset, Number.MAX_SAFE_INTEGER);
  });
  for (const hex of ['0020000000000000', 'ffffffffffffffff']) {
    it(`an offset of 0x${hex} (above 2^53) is a typed error on decode that names the field`, () => {
      assert.throws(
        () => decodePacket(readWith(hex)),
        (e: unknown) => {
          assert.ok(e instanceof SftpProtocolError);
          assert.match(e.message, /offset/);
          assert.equal(e.offset, 10, 'points at the offset field: type 1 + id 4 + handle 4+1');
          assert.equal(e.packetType, T.READ);
          return true;
        },
      );
    });
  }
  it('an attrs size above 2^53 is a typed error on decode', () => {
    const wire = bytes`69 00000001 00000001 0020000000000001`;
    assert.throws(() => decodePacket(wire), SftpProtocolError);
  });
  const bad = [2 ** 53, 2 ** 64, -1, 1.5, Number.NaN, Infinity];
  for (const v of bad) {
    it(`encoding ${v} as a 64-bit offset or size is a RangeError`, () => {
      const h = Buffer.from([1]);
      assert.throws(() => encodePacket({ type: T.READ, id: 1, handle: h, offset: v, length: 1 }), RangeError);
      assert.throws(() => encodePacket({ type: T.WRITE, id: 1, handle: h, offset: v, data: h }), RangeError);
      assert.throws(() => encodePacket({ type: T.ATTRS, id: 1, attrs: { size: v } }), RangeError);
    });
  }
  it('encoding a uint32 field out of range is a RangeError', () => {
    assert.throws(
      () => encodePacket({ type: T.READ, id: 2 ** 32, handle: Buffer.alloc(1), offset: 0, length: 1 }),
      RangeError,
    );
    assert.throws(() => encodePacket({ type: T.ATTRS, id: 1, attrs: { permissions: -1 } }), RangeError);
  });
});

interface ExtGolden {
  key: ExtensionKey;
  request: object;
  requestData: Buffer;
  reply?: { value: object; data: Buffer };
}

/** Request data is what follows the extension name in SSH_FXP_EXTENDED; reply data follows the id in EXTENDED_REPLY. */
const extGoldens: ExtGolden[] = [
  {
    key: 'posixRename',
    request: { oldPath: 'a', newPath: 'b' },
    requestData: bytes`00000001 "a"  00000001 "b"   # string oldpath, string newpath`,
  },
  {
    key: 'statvfs',
    request: { path: '/' },
    requestData: bytes`00000001 "/"   # string path`,
    reply: {
      value: {
        bsize: 4096n,
        frsize: 4096n,
        blocks: 2n ** 40n,
        bfree: 0x3993e74n,
        bavail: 0x13f3437n,
        files: 0x1000000n,
        ffree: 0xf9c546n,
        favail: 0xf9c546n,
        fsid: 0xa3693276e72416d2n,
        flag: 3n,
        namemax: 255n,
      },
      data: bytes`
        0000000000001000    # f_bsize 4096
        0000000000001000    # f_frsize 4096
        0000010000000000    # f_blocks 2^40
        0000000003993e74    # f_bfree
        00000000013f3437    # f_bavail
        0000000001000000    # f_files
        0000000000f9c546    # f_ffree
        0000000000f9c546    # f_favail
        a3693276e72416d2    # f_fsid (above 2^53: kept exact as a bigint)
        0000000000000003    # f_flag ST_RDONLY | ST_NOSUID
        00000000000000ff    # f_namemax 255
      `,
    },
  },
  {
    key: 'fstatvfs',
    request: { handle: Buffer.from([0, 1]) },
    requestData: bytes`00000002 0001   # string handle`,
    reply: {
      value: {
        bsize: 1n,
        frsize: 2n,
        blocks: 3n,
        bfree: 4n,
        bavail: 5n,
        files: 6n,
        ffree: 7n,
        favail: 8n,
        fsid: 9n,
        flag: 0n,
        namemax: 0xffffffffffffffffn,
      },
      data: bytes`
        0000000000000001 0000000000000002 0000000000000003 0000000000000004   # bsize frsize blocks bfree
        0000000000000005 0000000000000006 0000000000000007 0000000000000008   # bavail files ffree favail
        0000000000000009 0000000000000000 ffffffffffffffff                    # fsid flag namemax
      `,
    },
  },
  {
    key: 'hardlink',
    request: { oldPath: 'old', newPath: 'new' },
    requestData: bytes`00000003 "old"  00000003 "new"   # string oldpath, string newpath`,
  },
  {
    key: 'fsync',
    request: { handle: Buffer.from([7]) },
    requestData: bytes`00000001 07   # string handle`,
  },
  {
    key: 'discardHandle',
    request: { handle: Buffer.from([0, 0, 0, 3]) },
    requestData: bytes`00000004 00000003   # string handle`,
  },
  {
    key: 'lsetstat',
    request: { path: 'l', attrs: { permissions: 0o777 } },
    requestData: bytes`00000001 "l"  00000004 000001ff   # string path, ATTRS {PERMISSIONS 0777}`,
  },
  {
    key: 'limits',
    request: {},
    requestData: bytes``,
    reply: {
      // captured: OpenSSH 9.2p1's answer
      value: { maxPacketLength: 262144, maxReadLength: 261120, maxWriteLength: 261120, maxOpenHandles: 19995 },
      data: bytes`
        0000000000040000    # max-packet-length 262144
        000000000003fc00    # max-read-length 261120
        000000000003fc00    # max-write-length 261120
        0000000000004e1b    # max-open-handles 19995
      `,
    },
  },
  {
    key: 'expandPath',
    request: { path: '~/x' },
    requestData: bytes`00000003 "~/x"   # string path`,
  },
  {
    key: 'copyData',
    request: {
      readHandle: Buffer.from([1]),
      readOffset: 2 ** 32,
      readLength: 0,
      writeHandle: Buffer.from([2]),
      writeOffset: 10,
    },
    requestData: bytes`
      00000001 01         # string read-from-handle
      0000000100000000    # uint64 read-from-offset 2^32
      0000000000000000    # uint64 read-data-length 0 (to end of file)
      00000001 02         # string write-to-handle
      000000000000000a    # uint64 write-to-offset 10
    `,
  },
  {
    key: 'homeDirectory',
    request: { username: 'root' },
    requestData: bytes`00000004 "root"   # string username`,
  },
  {
    key: 'usersGroupsById',
    request: { uids: [0, 4242], gids: [0] },
    requestData: bytes`
      00000008 00000000 00001092   # string uids: packed uint32 0, 4242
      00000004 00000000            # string gids: packed uint32 0
    `,
    reply: {
      // captured: OpenSSH 9.2p1's answer to the request above (uid 4242 has no name: empty string)
      value: { users: ['root', ''], groups: ['root'] },
      data: bytes`
        0000000c               # string usernames, 12 bytes:
          00000004 "root"      #   string "root"
          00000000             #   string "" (unknown uid)
        00000008               # string groupnames, 8 bytes:
          00000004 "root"      #   string "root"
      `,
    },
  },
  {
    key: 'checkFileName',
    request: { target: 'f', algorithms: ['sha256', 'md5'], startOffset: 0, length: 0, blockSize: 0 },
    requestData: bytes`
      00000001 "f"             # string filename
      0000000a "sha256,md5"    # string hash-algorithm-list
      0000000000000000         # uint64 start-offset
      0000000000000000         # uint64 length (0: to end of file)
      00000000                 # uint32 block-size (0: one hash over the range)
    `,
    reply: {
      value: { algorithm: 'md5', hashes: [Buffer.alloc(16, 0xaa), Buffer.alloc(16, 0xbb)] },
      data: bytes`
        0000000a "check-file"              # string "check-file"
        00000003 "md5"                     # string hash-algo-used
        aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa   # hash of block 0 (16 bytes)
        bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb   # hash of block 1
      `,
    },
  },
  {
    key: 'checkFileHandle',
    request: {
      target: Buffer.from([0x0a, 0x0b]),
      algorithms: ['sha1'],
      startOffset: 256,
      length: 1024,
      blockSize: 512,
    },
    requestData: bytes`
      00000002 0a0b            # string handle
      00000004 "sha1"          # string hash-algorithm-list
      0000000000000100         # uint64 start-offset 256
      0000000000000400         # uint64 length 1024
      00000200                 # uint32 block-size 512
    `,
    reply: {
      value: { algorithm: 'sha1', hashes: [Buffer.alloc(20, 1)] },
      data: bytes`
        0000000a "check-file"
        00000004 "sha1"
        0101010101010101010101010101010101010101   # one 20-byte digest
      `,
    },
  },
];

describe('golden bytes: extension request and reply bodies (OpenSSH PROTOCOL section 4, check-file)', () => {
  it('covers every extension of the Extensions table', () => {
    assert.deepEqual(extGoldens.map((g) => g.key).sort(), (Object.keys(Extensions) as ExtensionKey[]).sort());
  });
  for (const g of extGoldens) {
    const def = Extensions[g.key];
    it(`${def.name}: request data`, () => {
      assert.deepEqual(encodeExtensionRequest(g.key, g.request as never), g.requestData);
      assert.deepEqual(decodeExtensionRequest(g.key, g.requestData), g.request);
    });
    if (g.reply) {
      const { value, data } = g.reply;
      it(`${def.name}: reply data`, () => {
        assert.equal(def.reply.kind, 'extended');
        assert.deepEqual(encodeExtensionReply(g.key, value as never), data);
        assert.deepEqual(decodeExtensionReply(g.key, data), value);
      });
    } else {
      it(`${def.name}: replies with ${def.reply.kind}, not a typed EXTENDED_REPLY`, () => {
        assert.notEqual(def.reply.kind, 'extended');
        assert.throws(() => encodeExtensionReply(g.key, {} as never), TypeError);
        assert.throws(() => decodeExtensionReply(g.key, Buffer.alloc(0)), TypeError);
      });
    }
  }
  it('statvfs is 11 uint64s and limits is 4 uint64s: one byte more or less is a typed error', () => {
    const statvfs = extGoldens.find((g) => g.key === 'statvfs')!.reply!.data;
    const limits = extGoldens.find((g) => g.key === 'limits')!.reply!.data;
    assert.equal(statvfs.length, 88);
    assert.equal(limits.length, 32);
    for (const [key, data] of [
      ['statvfs', statvfs],
      ['limits', limits],
    ] as const) {
      assert.throws(() => decodeExtensionReply(key, data.subarray(0, data.length - 1)), SftpProtocolError);
      assert.throws(() => decodeExtensionReply(key, Buffer.concat([data, Buffer.alloc(1)])), SftpProtocolError);
    }
  });
  it('users-groups-by-id: a uid list that is not a whole number of uint32 is a typed error', () => {
    assert.throws(() => decodeExtensionRequest('usersGroupsById', bytes`00000003 000000  00000000`), SftpProtocolError);
  });
  it('check-file: a reply with the wrong tag, an unknown hash or a partial digest is a typed error', () => {
    const cases = [
      bytes`00000009 "checkfile" 00000003 "md5"`,
      bytes`0000000a "check-file" 00000004 "crc9"`,
      bytes`0000000a "check-file" 00000003 "md5" 00112233`,
    ];
    for (const data of cases) assert.throws(() => decodeExtensionReply('checkFileName', data), SftpProtocolError);
  });
  it('check-file: hash names that are Object.prototype members are unknown hashes too', () => {
    for (const name of ['toString', 'constructor', '__proto__', 'hasOwnProperty', 'valueOf']) {
      const data = Buffer.concat([
        bytes`0000000a "check-file"`,
        Buffer.from([0, 0, 0, name.length]),
        b(name),
        Buffer.alloc(16),
      ]);
      assert.throws(
        () => decodeExtensionReply('checkFileName', data),
        (e: unknown) => {
          assert.ok(e instanceof SftpProtocolError);
          assert.match(e.message, /unknown hash/, name);
          return true;
        },
      );
    }
  });
});
