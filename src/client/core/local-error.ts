/**
 * The errors the client raises itself about a file (a local one, or a remote path it refuses before
 * asking the server), in one form: `CODE: what ("path")`, with `code` and `path` set as on Node's fs
 * errors, so callers test `err.code` alike for both. Errors the server answers are SftpErrors.
 */
export interface LocalError extends Error {
  code: string;
  path?: string;
}

export function localError(code: string, message: string, path?: string, cause?: unknown): LocalError {
  const where = path !== undefined ? ` (${JSON.stringify(path)})` : '';
  const err = new Error(`${code}: ${message}${where}`, cause !== undefined ? { cause } : undefined) as LocalError;
  err.code = code;
  if (path !== undefined) err.path = path;
  return err;
}
