import { rawChannelLarge } from './clients/raw-channel.js';
import { defineContender } from './types.js';

/** The raw SSH channel to ssh2's Server (beside the embedded server): the limit of the rows against it. */
export const limitSsh2 = defineContender({
  id: 'limit-ssh2',
  label: 'limit: raw SSH channel, ssh2 -> ssh2 Server',
  target: 'embedded-raw',
  workloads: ['large'],
  isLimit: true,
  runs: 'worker',
  runners: { large: rawChannelLarge },
});
