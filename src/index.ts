// The public entry of sftp-wire.
export * from './protocol/errors.js';
export { PacketType, OpenFlags, AttrFlags, StatusCode, FileType } from './protocol/constants.js';
export type { Attrs } from './protocol/attrs.js';
export type { StatVfs, Limits, CheckFileReply } from './protocol/extensions.js';
