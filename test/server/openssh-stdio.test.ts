import { stdioServerCommand } from '../support/openssh-client.js';
import { opensshInteropSuite } from './helpers/interop-suite.js';

opensshInteropSuite(
  'OpenSSH sftp -D against sftp-wire serve --stdio',
  async (root) => ({ target: { direct: stdioServerCommand(root) }, close: async () => undefined }),
  [
    [5, 1],
    [5, 64],
    [1000, 16],
    [32768, 64],
    [64000, 1],
    [64000, 64],
  ],
);
