import { runOpenSshSftp } from './clients/openssh-clients.js';
import { defineContender } from './types.js';

/** OpenSSH's `sftp -b`: put/get, put -r/get -r, ls -1. */
export const opensshSftp = defineContender({
  id: 'openssh-sftp',
  label: 'OpenSSH sftp -b',
  target: 'openssh',
  workloads: ['large', 'small', 'wide', 'deep', 'list'],
  slowAtRtt: true,
  runs: 'spawned',
  programs: ['sftp'],
  runners: {
    large: runOpenSshSftp,
    small: runOpenSshSftp,
    wide: runOpenSshSftp,
    deep: runOpenSshSftp,
    list: runOpenSshSftp,
  },
});
