import { abortError } from './errors.js';
import { onAbort } from './abort-fanout.js';
import { DEFAULT_ABORT_GRACE_MS } from '../defaults.js';
import { Extensions, encodeExtensionRequest } from '../../protocol/extensions.js';

/** What closeHandle needs of a client. */
export interface HandleCloser {
  close(handle: Buffer): Promise<void>;
  readonly options?: { abortGraceMs?: number };
}

export { DEFAULT_ABORT_GRACE_MS } from '../defaults.js';

/** The grace a client was configured with (ClientOptions.abortGraceMs), or the default. */
export function abortGraceOf(client: { readonly options?: { abortGraceMs?: number } }): number {
  const g = client.options?.abortGraceMs;
  return g !== undefined && g >= 0 ? g : DEFAULT_ABORT_GRACE_MS;
}

/**
 * Settle as `p` does, unless `signal` fires first: then `p` is still awaited for at most `graceMs`
 * (a live server answers a cleanup request quickly, and the caller then knows it was done), after
 * which this rejects with an AbortError and `p`'s outcome is dropped (never an unhandled rejection).
 * A signal that has already fired starts the grace at once.
 */
export function untilAborted<T>(p: Promise<T>, signal: AbortSignal | undefined, graceMs = 0): Promise<T> {
  if (!signal) return p;
  return new Promise<T>((resolve, reject) => {
    let timer: NodeJS.Timeout | undefined;
    let forget: () => void = () => {};
    const giveUp = () => {
      p.catch(() => {});
      reject(abortError(signal));
    };
    const fired = () => {
      if (graceMs <= 0) return giveUp();
      timer = setTimeout(giveUp, graceMs);
    };
    const done = () => {
      forget();
      if (timer) clearTimeout(timer);
    };
    p.then(
      (v) => {
        done();
        resolve(v);
      },
      (e: unknown) => {
        done();
        reject(e);
      },
    );
    if (signal.aborted) fired();
    else forget = onAbort(signal, fired);
  });
}

/**
 * CLOSE a handle without holding the caller long past its cancellation. The CLOSE is always sent
 * (also when the signal has already fired, and also when it waits for room in the session's window): a
 * handle is never left open on the server because its caller gave up. The call settles as the CLOSE
 * does (a server error rejects: on a success path that is a failure, and an atomic commit depends on
 * it); once `signal` has fired the reply is awaited for at most the client's `abortGraceMs` (default
 * 1 s), then the call rejects with an AbortError and the session consumes and drops the late reply.
 */
export function closeHandle(client: HandleCloser, handle: Buffer, signal?: AbortSignal): Promise<void> {
  return untilAborted(client.close(handle), signal, abortGraceOf(client));
}

/** What abandonUpload needs of a client beyond CLOSE. */
export interface UploadAbandoner extends HandleCloser {
  supports(ext: string): boolean;
  extended(name: string, data?: Buffer): Promise<unknown>;
}

/**
 * Give up on an upload that failed or was aborted: when the server advertises
 * discard-handle@sftp-wire, ask it first not to commit what was written (an sftp-wire server with
 * atomic uploads then removes the temporary file, or keeps it as the resumable partial), then CLOSE
 * as closeHandle does. Both requests are sent at once (the server runs them in order on the handle)
 * and both are sent even when `signal` has fired. The discard's own outcome is ignored: it never
 * hides the error that made the caller give up, and the CLOSE is sent whatever it answers.
 */
export function abandonUpload(client: UploadAbandoner, handle: Buffer, signal?: AbortSignal): Promise<void> {
  if (client.supports(Extensions.discardHandle.name)) {
    client.extended(Extensions.discardHandle.name, encodeExtensionRequest('discardHandle', { handle })).catch(() => {});
  }
  return closeHandle(client, handle, signal);
}
