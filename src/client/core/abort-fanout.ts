/**
 * Callbacks waiting for a signal, with ONE 'abort' listener per signal however many wait on it: a
 * transfer passes its signal to every READ/WRITE and a tree to thousands of files, and a listener each
 * would pile up (and trip Node's MaxListeners warning). `onAbort` returns the function that stops
 * waiting; the listener is removed when nobody waits any more.
 */
const waiting = new WeakMap<AbortSignal, { fns: Set<() => void>; listener: () => void }>();

export function onAbort(signal: AbortSignal, fn: () => void): () => void {
  let w = waiting.get(signal);
  if (!w) {
    const fns = new Set<() => void>();
    const listener = () => {
      waiting.delete(signal);
      for (const f of fns) f();
    };
    w = { fns, listener };
    waiting.set(signal, w);
    signal.addEventListener('abort', listener, { once: true });
  }
  const entry = w;
  const own = () => fn(); // its own identity, so that the same function may wait twice
  entry.fns.add(own);
  return () => {
    if (!entry.fns.delete(own) || entry.fns.size > 0 || waiting.get(signal) !== entry) return;
    waiting.delete(signal);
    signal.removeEventListener('abort', entry.listener);
  };
}
