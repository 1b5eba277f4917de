import type { Duplex } from 'node:stream';
import type * as SessionPartsModule from './session-parts.js';

/**
 * The session code (session-parts.ts), loaded once per process by the first SftpServer, so that
 * importing the package (a client, most often) does not load it.
 *
 * Once loaded, `withSessionParts` starts a session at once, as a static import would. Before (the
 * first serve() of a process, within milliseconds of the server's construction) the stream waits
 * for it, and nothing it does in that time is lost or escapes:
 *   - its input stays buffered: a stream not yet read is paused; one already flowing is paused and
 *     resumed once the session reads it;
 *   - an 'error' is not thrown at the process (we listen meanwhile) and ends the session before it
 *     starts, as it would have ended it: the stream is destroyed and serve() resolves;
 *   - a stream destroyed meanwhile (which drops its buffered input) is not served: serve() resolves.
 */
export type SessionParts = typeof SessionPartsModule;

let loaded: SessionParts | undefined;
let loading: Promise<SessionParts> | undefined;

function load(): Promise<SessionParts> {
  return (loading ??= import('./session-parts.js').then((m) => (loaded = m)));
}

/** Start loading the session code now (an SftpServer is made: it will serve soon). */
export function preloadSessionParts(): void {
  if (!loaded) load().catch(() => undefined); // a failure is reported by the serve() that needs it
}

/** `start(parts)` with the session code loaded, keeping `stream` safe while it loads (see above). */
export function withSessionParts(stream: Duplex, start: (parts: SessionParts) => Promise<void>): Promise<void> {
  if (loaded) return start(loaded);
  let failed = false;
  const onError = (): void => {
    failed = true;
  };
  stream.on('error', onError);
  const wasFlowing = stream.readableFlowing === true;
  if (wasFlowing) stream.pause();
  return load().then(
    (parts) => {
      stream.removeListener('error', onError);
      if (failed || stream.destroyed) {
        stream.destroy();
        return;
      }
      const running = start(parts);
      if (wasFlowing) stream.resume();
      return running;
    },
    (err: unknown) => {
      stream.removeListener('error', onError);
      stream.destroy();
      throw err;
    },
  );
}
