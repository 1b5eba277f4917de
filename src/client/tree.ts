/** Tree operations: many files in flight over one shared request window. */
export { putTree } from './tree-put.js';
export { getTree } from './tree-get.js';
export { rmtree } from './tree-remove.js';
export { TreeError } from './tree-types.js';
export type { TreeOptions, TreeResult, TreeProgress, TreeEntryError, RmtreeOptions, SymlinkMode } from './tree-types.js';
export { TreeWindow } from './tree-window.js';
