// The transfer and tree code, loaded by the first call that needs it: a process that connects, lists,
// stats or streams never loads those modules (about thirty), and starts that much sooner. Once loaded,
// a call runs at once, exactly as it would with a static import.
import type * as TransferModule from './file/transfer.js';
import type * as TreeModule from './tree/index.js';

export type Transfers = typeof TransferModule;
export type Trees = typeof TreeModule;

let transfers: Transfers | undefined;
let trees: Trees | undefined;

/** `use` with the transfer module (src/client/file/transfer.ts), loading it on the first call. */
export function withTransfers<T>(use: (m: Transfers) => Promise<T>): Promise<T> {
  if (transfers) return use(transfers);
  return import('./file/transfer.js').then((m) => use((transfers = m)));
}

/** `use` with the tree module (src/client/tree/index.ts), loading it on the first call. */
export function withTrees<T>(use: (m: Trees) => Promise<T>): Promise<T> {
  if (trees) return use(trees);
  return import('./tree/index.js').then((m) => use((trees = m)));
}
