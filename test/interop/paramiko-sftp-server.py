"""A paramiko SFTP server for the interop tests: loopback only, one folder as its root.

Usage: paramiko-sftp-server.py ROOT AUTHORIZED_PUBLIC_KEY_FILE
Prints the port it listens on (one line), serves connections until its stdin closes.
paramiko ships the SFTP protocol but no file system behind it; the operations the tests use (files,
directories, listings, symlinks) are served from ROOT here.
"""
import base64
import os
import socket
import sys
import threading

import paramiko
from paramiko import SFTPAttributes, SFTPHandle, SFTPServer, SFTPServerInterface, SFTP_OK


class Auth(paramiko.ServerInterface):
    def __init__(self, allowed):
        self.allowed = allowed

    def get_allowed_auths(self, username):
        return 'publickey'

    def check_auth_publickey(self, username, key):
        return paramiko.AUTH_SUCCESSFUL if key == self.allowed else paramiko.AUTH_FAILED

    def check_channel_request(self, kind, chanid):
        return paramiko.OPEN_SUCCEEDED if kind == 'session' else paramiko.OPEN_FAILED_ADMINISTRATIVELY_PROHIBITED


class Handle(SFTPHandle):
    def stat(self):
        try:
            return SFTPAttributes.from_stat(os.fstat(self.readfile.fileno()))
        except OSError as e:
            return SFTPServer.convert_errno(e.errno)

    def chattr(self, attr):
        return SFTP_OK


class Files(SFTPServerInterface):
    ROOT = '.'

    def _real(self, path):
        return os.path.join(self.ROOT, self.canonicalize(path).lstrip('/'))

    def canonicalize(self, path):
        return os.path.normpath('/' + path).replace('//', '/')

    def stat(self, path):
        try:
            return SFTPAttributes.from_stat(os.stat(self._real(path)))
        except OSError as e:
            return SFTPServer.convert_errno(e.errno)

    def lstat(self, path):
        try:
            return SFTPAttributes.from_stat(os.lstat(self._real(path)))
        except OSError as e:
            return SFTPServer.convert_errno(e.errno)

    def list_folder(self, path):
        try:
            real = self._real(path)
            out = []
            for name in os.listdir(real):
                a = SFTPAttributes.from_stat(os.lstat(os.path.join(real, name)))
                a.filename = name
                out.append(a)
            return out
        except OSError as e:
            return SFTPServer.convert_errno(e.errno)

    def mkdir(self, path, attr):
        try:
            os.mkdir(self._real(path))
        except OSError as e:
            return SFTPServer.convert_errno(e.errno)
        return SFTP_OK

    def rmdir(self, path):
        try:
            os.rmdir(self._real(path))
        except OSError as e:
            return SFTPServer.convert_errno(e.errno)
        return SFTP_OK

    def symlink(self, target_path, path):
        # The link's text is stored as given (a relative target stays relative).
        try:
            os.symlink(target_path, self._real(path))
        except OSError as e:
            return SFTPServer.convert_errno(e.errno)
        return SFTP_OK

    def readlink(self, path):
        try:
            return os.readlink(self._real(path))
        except OSError as e:
            return SFTPServer.convert_errno(e.errno)

    def open(self, path, flags, attr):
        try:
            fd = os.open(self._real(path), flags, 0o644)
            mode = 'rb' if (flags & (os.O_WRONLY | os.O_RDWR)) == 0 else 'r+b'
            f = os.fdopen(fd, mode)
        except OSError as e:
            return SFTPServer.convert_errno(e.errno)
        h = Handle(flags)
        h.filename = self._real(path)
        h.readfile = f
        h.writefile = f
        return h

    def remove(self, path):
        try:
            os.remove(self._real(path))
        except OSError as e:
            return SFTPServer.convert_errno(e.errno)
        return SFTP_OK

    def rename(self, oldpath, newpath):
        try:
            os.rename(self._real(oldpath), self._real(newpath))
        except OSError as e:
            return SFTPServer.convert_errno(e.errno)
        return SFTP_OK

    def chattr(self, path, attr):
        return SFTP_OK


def serve(sock, host_key, allowed):
    t = paramiko.Transport(sock)
    t.add_server_key(host_key)
    t.set_subsystem_handler('sftp', SFTPServer, Files)
    t.start_server(server=Auth(allowed))


def main():
    Files.ROOT = sys.argv[1]
    with open(sys.argv[2]) as f:
        allowed = paramiko.Ed25519Key(data=base64.b64decode(f.read().split()[1]))
    host_key = paramiko.RSAKey.generate(2048)
    lsock = socket.socket()
    lsock.bind(('127.0.0.1', 0))
    lsock.listen(4)
    print(lsock.getsockname()[1], flush=True)

    def accept():
        while True:
            try:
                sock, _ = lsock.accept()
            except OSError:
                return
            threading.Thread(target=serve, args=(sock, host_key, allowed), daemon=True).start()

    threading.Thread(target=accept, daemon=True).start()
    sys.stdin.read()
    lsock.close()


if __name__ == '__main__':
    main()
