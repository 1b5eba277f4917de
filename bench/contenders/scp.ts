import { runScp } from './clients/openssh-clients.js';
import { defineContender } from './types.js';

/** OpenSSH's `scp` (-r for SMALL), over one master connection whose set-up time is taken off. */
export const scp = defineContender({
  id: 'scp',
  label: 'OpenSSH scp',
  target: 'openssh',
  workloads: ['large', 'small'],
  slowAtRtt: true,
  runs: 'spawned',
  programs: ['scp', 'ssh'],
  sharedMaster: true,
  runners: {
    large: (job, ctx) => runScp(job, ctx.scpSetupSeconds),
    small: (job, ctx) => runScp(job, ctx.scpSetupSeconds),
  },
});
