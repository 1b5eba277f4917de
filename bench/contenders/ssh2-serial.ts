import { ssh2Tree } from './clients/ssh2-sftp.js';
import { defineContender } from './types.js';

/** ssh2's SFTP client copying a tree one file at a time (fastPut/fastGet in a loop). */
export const ssh2Serial = defineContender({
  id: 'ssh2-serial',
  label: 'ssh2 SFTP, 1 file at a time',
  target: 'openssh',
  workloads: ['small'],
  slowAtRtt: true,
  runs: 'worker',
  runners: { small: (session, job) => ssh2Tree(session, job, 1) },
});
