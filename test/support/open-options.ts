import type { OpenOptions } from '../../src/server/fs/file-system.js';

/** OpenOptions of a plain read-only open (SFTP's READ flag alone). */
export const READ_ONLY: OpenOptions = {
  read: true,
  write: false,
  append: false,
  create: false,
  truncate: false,
  exclusive: false,
};
