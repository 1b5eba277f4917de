import { ssh2Tree } from './clients/ssh2-sftp.js';
import { defineContender } from './types.js';

const FILES_IN_FLIGHT = 16;

/** ssh2's SFTP client copying a tree 16 files at a time. */
export const ssh2Parallel16 = defineContender({
  id: 'ssh2-16',
  label: 'ssh2 SFTP, 16 files in flight',
  target: 'openssh',
  workloads: ['small'],
  slowAtRtt: true,
  slowScale: 8,
  runs: 'worker',
  jobOptions: () => ({ concurrency: FILES_IN_FLIGHT }),
  runners: { small: (session, job) => ssh2Tree(session, job, job.concurrency ?? FILES_IN_FLIGHT) },
});
