export * from './constants.js';
export * from './errors.js';
export * from './bytes.js';
export * from './attrs.js';
export * from './packets.js';
export * from './extensions.js';
export * from './framing.js';
export * from './longname.js';
