"""A Python SFTP client of the clients-compare test: runs the test's operations, prints their outcomes.

Usage:
  compare-client.py paramiko OPS_JSON LOCAL_DIR -- SERVER_COMMAND...
      paramiko's SFTPClient over the pipes of SERVER_COMMAND (a socket pair as its stdin/stdout)
  compare-client.py asyncssh OPS_JSON LOCAL_DIR PORT USER KEY_FILE
      AsyncSSH's SFTP client over SSH to 127.0.0.1:PORT

Each operation is {"op": NAME, "args": [...]}; remote paths are relative to where the server starts.
Prints one JSON list: per operation {"ok": true, "value": ...}, {"ok": false, "error": KIND,
"message": TEXT} or {"na": true} (this client cannot do it). KIND is what the client reports: the
errno name paramiko gives (else the exception's class), or AsyncSSH's SFTPError class and code.
"""
import asyncio
import errno
import hashlib
import json
import os
import socket
import stat
import subprocess
import sys


def file_type(mode):
    for test, name in ((stat.S_ISREG, 'file'), (stat.S_ISDIR, 'dir'), (stat.S_ISLNK, 'symlink')):
        if test(mode):
            return name
    return 'other'


def attrs_of(a):
    return {'type': file_type(a.st_mode), 'size': a.st_size, 'perm': oct(stat.S_IMODE(a.st_mode))}


def local_digest(p):
    with open(p, 'rb') as f:
        data = f.read()
    return {'size': len(data), 'sha256': hashlib.sha256(data).hexdigest()}


class Paramiko:
    """paramiko's SFTPClient: what it offers, as the operations need."""

    def __init__(self, sftp):
        self.s = sftp

    def error(self, e):
        if isinstance(e, OSError) and e.errno is not None:
            return errno.errorcode.get(e.errno, str(e.errno))
        return type(e).__name__

    def realpath(self, p): return self.s.normalize(p)

    def mkdirp(self, p):
        done = ''
        for part in p.split('/'):
            done = part if not done else done + '/' + part
            try:
                self.s.stat(done)
            except IOError:
                self.s.mkdir(done)

    def mkdir(self, p): self.s.mkdir(p)
    def utime(self, p, t): self.s.utime(p, (int(t), int(t)))
    def mtime(self, p): return self.s.stat(p).st_mtime
    def put(self, local, remote): self.s.put(local, remote)
    def get(self, remote, local): self.s.get(remote, local)
    def listdir(self, p): return [(a.filename, attrs_of(a)) for a in self.s.listdir_attr(p)]
    def stat(self, p): return attrs_of(self.s.stat(p))
    def lstat(self, p): return attrs_of(self.s.lstat(p))
    def chmod(self, p, mode): self.s.chmod(p, mode)
    def rename(self, a, b): self.s.rename(a, b)
    def posix_rename(self, a, b): self.s.posix_rename(a, b)
    def symlink(self, target, link): self.s.symlink(target, link)
    def readlink(self, p): return self.s.readlink(p)
    def remove(self, p): self.s.remove(p)
    def rmdir(self, p): self.s.rmdir(p)


class AsyncSsh:
    """AsyncSSH's SFTPClient, driven from a worker thread through the event loop."""

    def __init__(self, sftp, loop):
        self.s = sftp
        self.loop = loop

    def run(self, coro):
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result()

    def error(self, e):
        import asyncssh
        if isinstance(e, asyncssh.SFTPError):
            return '%s(%d)' % (type(e).__name__, e.code)
        return type(e).__name__

    def realpath(self, p): return self.run(self.s.realpath(p))
    def mkdirp(self, p): self.run(self.s.makedirs(p, exist_ok=True))
    def mkdir(self, p): self.run(self.s.mkdir(p))
    def utime(self, p, t): self.run(self.s.utime(p, (int(t), int(t))))
    def mtime(self, p): return self.run(self.s.stat(p)).mtime
    def put(self, local, remote): self.run(self.s.put(local, remote))
    def get(self, remote, local): self.run(self.s.get(remote, local))

    def listdir(self, p):
        names = self.run(self.s.readdir(p))
        return [(n.filename, attrs_of_asyncssh(n.attrs)) for n in names if n.filename not in ('.', '..')]

    def stat(self, p): return attrs_of_asyncssh(self.run(self.s.stat(p)))
    def lstat(self, p): return attrs_of_asyncssh(self.run(self.s.lstat(p)))
    def chmod(self, p, mode): self.run(self.s.chmod(p, mode))
    def rename(self, a, b): self.run(self.s.rename(a, b))
    def posix_rename(self, a, b): self.run(self.s.posix_rename(a, b))
    # AsyncSSH's symlink(oldpath, newpath): oldpath is the target
    def symlink(self, target, link): self.run(self.s.symlink(target, link))
    def readlink(self, p): return self.run(self.s.readlink(p))
    def remove(self, p): self.run(self.s.remove(p))
    def rmdir(self, p): self.run(self.s.rmdir(p))


def attrs_of_asyncssh(a):
    return {'type': file_type(a.permissions), 'size': a.size, 'perm': oct(stat.S_IMODE(a.permissions))}


def run_ops(client, ops, local_dir):
    out = []
    for step in ops:
        op, args = step['op'], step['args']
        try:
            if op in ('put',):
                client.put(os.path.join(local_dir, args[0]), args[1])
                value = None
            elif op == 'get':
                dest = os.path.join(local_dir, args[1])
                client.get(args[0], dest)
                value = local_digest(dest)
            elif op == 'listdir':
                value = sorted([[n, a] for n, a in client.listdir(args[0])], key=lambda e: e[0])
            elif op == 'chmod':
                client.chmod(args[0], int(args[1], 8))
                value = None
            else:
                value = getattr(client, op.replace('-', '_'))(*args)
            out.append({'ok': True, 'value': value})
        except Exception as e:  # every failure is an outcome to compare
            out.append({'ok': False, 'error': client.error(e), 'message': str(e)})
    return out


class PipeChannel:
    """One end of a socket pair, with the channel methods paramiko's SFTPClient calls."""

    def __init__(self, sock):
        self.sock = sock

    def send(self, data): return self.sock.send(data)
    def recv(self, n): return self.sock.recv(n)
    def close(self): self.sock.close()
    def get_name(self): return 'stdio'


def paramiko_main(ops, local_dir, command):
    import paramiko
    ours, theirs = socket.socketpair()
    server = subprocess.Popen(command, stdin=theirs, stdout=theirs)
    theirs.close()
    sftp = paramiko.SFTPClient(PipeChannel(ours))
    try:
        return run_ops(Paramiko(sftp), ops, local_dir)
    finally:
        sftp.close()
        try:
            server.wait(10)
        except subprocess.TimeoutExpired:
            server.kill()


def asyncssh_main(ops, local_dir, port, user, key_file):
    import asyncssh
    import threading

    async def main():
        loop = asyncio.get_running_loop()
        async with asyncssh.connect('127.0.0.1', port, username=user, client_keys=[key_file],
                                    known_hosts=None, agent_path=None) as conn:
            async with conn.start_sftp_client() as sftp:
                result = []
                worker = threading.Thread(target=lambda: result.append(run_ops(AsyncSsh(sftp, loop), ops, local_dir)))
                worker.start()
                await loop.run_in_executor(None, worker.join)
                return result[0]

    return asyncio.run(main())


if __name__ == '__main__':
    which, ops, local_dir = sys.argv[1], json.loads(sys.argv[2]), sys.argv[3]
    if which == 'paramiko':
        result = paramiko_main(ops, local_dir, sys.argv[sys.argv.index('--') + 1:])
    else:
        result = asyncssh_main(ops, local_dir, int(sys.argv[4]), sys.argv[5], sys.argv[6])
    print(json.dumps(result))
