// The transfer and tree code, loaded by the first call that needs it: a process that connects, lists,
// stats or streams never loads those modules (about thirty), and starts that much sooner. Once loaded,
// a call runs at once, exactly as it would with a static import.
import type * as TransferModule from './file/transfer.js';
import type * as TreeModule from './tree/index.js';

export type Transfers = typeof TransferModule;
export type Trees = typeof TreeModule;

/** A function that runs `use` with the module `load` gives, loading it on the first call only. */
function onFirstUse<M>(load: () => Promise<M>): <T>(use: (m: M) => Promise<T>) => Promise<T> {
  let loaded: M | undefined;
  return (use) => (loaded ? use(loaded) : load().then((m) => use((loaded = m))));
}

/** `use` with the transfer module (src/client/file/transfer.ts), loading it on the first call. */
export const withTransfers = onFirstUse<Transfers>(() => import('./file/transfer.js'));

/** `use` with the tree module (src/client/tree/index.ts), loading it on the first call. */
export const withTrees = onFirstUse<Trees>(() => import('./tree/index.js'));
