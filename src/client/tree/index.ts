/** Tree operations: many files in flight over one shared request window. */
export { putTree } from './put.js';
export { getTree } from './get.js';
export { rmtree } from './remove.js';
export { TreeError } from './types.js';
export type { TreeOptions, TreeResult, TreeProgress, TreeEntryError, RmtreeOptions, SymlinkMode } from './types.js';
