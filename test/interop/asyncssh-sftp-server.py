"""An AsyncSSH SFTP server for the interop tests: loopback only, one folder as its root.

Usage: asyncssh-sftp-server.py ROOT AUTHORIZED_KEYS_FILE REKEY_BYTES
Prints the port it listens on (one line), serves until its stdin closes, then exits.
Re-keys every REKEY_BYTES bytes it sends, so a test can cross many key re-exchanges quickly.
"""
import asyncio
import sys

import asyncssh


class RootedSftp(asyncssh.SFTPServer):
    root = '.'

    def __init__(self, chan):
        super().__init__(chan, chroot=RootedSftp.root)


async def main() -> None:
    root, authorized, rekey_bytes = sys.argv[1], sys.argv[2], int(sys.argv[3])
    RootedSftp.root = root
    server = await asyncssh.listen(
        '127.0.0.1', 0,
        server_host_keys=[asyncssh.generate_private_key('ssh-ed25519')],
        authorized_client_keys=authorized,
        sftp_factory=RootedSftp,
        allow_scp=False,
        rekey_bytes=rekey_bytes,
    )
    print(server.sockets[0].getsockname()[1], flush=True)
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)
    server.close()
    await server.wait_closed()


if __name__ == '__main__':
    asyncio.run(main())
