import { ssh2FastLarge } from './clients/ssh2-sftp.js';
import { defineContender } from './types.js';

/** ssh2's SFTP client, fastPut/fastGet with its defaults. */
export const ssh2Fast = defineContender({
  id: 'ssh2-fast',
  label: 'ssh2 SFTP fastPut/fastGet',
  target: 'openssh',
  workloads: ['large'],
  runs: 'worker',
  runners: { large: ssh2FastLarge },
});
