// OpenSSH peers (sftp-server on stdio, a loopback sshd) live in bench/lib/peers: the bench starts them too.
export * from '../../bench/lib/peers/openssh.js';
