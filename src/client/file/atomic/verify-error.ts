import type { VerifyMode } from '../transfer-options.js';

/** The copy is not what the source is (size or bytes): nothing was committed. */
export class VerifyError extends Error {
  override readonly name = 'VerifyError';
  readonly code = 'ERR_SFTP_VERIFY';
  constructor(
    message: string,
    readonly path: string | undefined,
    /** The check that failed. */
    readonly check: VerifyMode,
    /** The first differing offset, when known. */
    readonly offset?: number,
  ) {
    super(message);
  }
}
