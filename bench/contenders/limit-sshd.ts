import { rawChannelLarge } from './clients/raw-channel.js';
import { defineContender } from './types.js';

/** The raw SSH channel to OpenSSH's sshd: the limit of the rows against sshd. */
export const limitSshd = defineContender({
  id: 'limit-sshd',
  label: 'limit: raw SSH channel, ssh2 -> sshd',
  target: 'openssh',
  workloads: ['large'],
  isLimit: true,
  runs: 'worker',
  runners: { large: rawChannelLarge },
});
