import { sftpWireLarge, sftpWireList, sftpWireSmall } from './clients/sftp-wire-client.js';
import { defineContender, type Tuning } from './types.js';

/** The run's sftp-wire tuning as job fields (unset: the client's defaults). */
export function sftpWireJobOptions(t: Tuning): Tuning {
  return { requests: t.requests, chunkSize: t.chunkSize, concurrency: t.concurrency };
}

/** sftp-wire's client against sftp-wire's own server (embedded, over ssh2). */
export const sftpWire = defineContender({
  id: 'sftp-wire',
  label: 'sftp-wire -> sftp-wire server',
  target: 'embedded',
  workloads: ['large', 'small', 'list'],
  isSftpWire: true,
  runs: 'worker',
  jobOptions: sftpWireJobOptions,
  runners: { large: sftpWireLarge, small: sftpWireSmall, list: sftpWireList },
});
