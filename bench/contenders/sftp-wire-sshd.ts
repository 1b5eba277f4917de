import { sftpWireLarge, sftpWireList, sftpWireSmall } from './clients/sftp-wire-client.js';
import { sftpWireJobOptions } from './sftp-wire.js';
import { defineContender } from './types.js';

/** sftp-wire's client against OpenSSH's sftp-server (through sshd): the row others are compared with. */
export const sftpWireSshd = defineContender({
  id: 'sftp-wire-sshd',
  label: 'sftp-wire -> OpenSSH sftp-server',
  target: 'openssh',
  workloads: ['large', 'small', 'wide', 'deep', 'list'],
  isSftpWire: true,
  runs: 'worker',
  jobOptions: sftpWireJobOptions,
  runners: { large: sftpWireLarge, small: sftpWireSmall, wide: sftpWireSmall, deep: sftpWireSmall, list: sftpWireList },
});
