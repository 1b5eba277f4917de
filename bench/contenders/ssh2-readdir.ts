import { ssh2List } from './clients/ssh2-sftp.js';
import { defineContender } from './types.js';

/** ssh2's SFTP client listing a directory with readdir(path). */
export const ssh2Readdir = defineContender({
  id: 'ssh2-readdir',
  label: 'ssh2 SFTP readdir(path)',
  target: 'openssh',
  workloads: ['list'],
  runs: 'worker',
  runners: { list: ssh2List },
});
