import { PacketType as T } from '../../protocol/constants.js';
import type { HandlerTable, RequestPacket } from '../context.js';
import * as file from './file-handlers.js';
import * as paths from './path-handlers.js';
import * as dirs from './dir-handlers.js';
import { extended, extensionHandles } from './extended-handlers.js';

/** The dispatch table: one handler per request type. */
export const handlers: HandlerTable = {
  [T.OPEN]: file.open,
  [T.CLOSE]: file.close,
  [T.READ]: file.read,
  [T.WRITE]: file.write,
  [T.FSTAT]: file.fstat,
  [T.FSETSTAT]: file.fsetstat,
  [T.LSTAT]: paths.lstat,
  [T.STAT]: paths.stat,
  [T.SETSTAT]: paths.setstat,
  [T.REMOVE]: paths.remove,
  [T.MKDIR]: paths.mkdir,
  [T.RMDIR]: paths.rmdir,
  [T.REALPATH]: paths.realpath,
  [T.RENAME]: paths.rename,
  [T.READLINK]: paths.readlink,
  [T.SYMLINK]: paths.symlink,
  [T.OPENDIR]: dirs.opendir,
  [T.READDIR]: dirs.readdir,
  [T.EXTENDED]: extended,
};

export function isRequestType(type: number): type is RequestPacket['type'] {
  return Object.prototype.hasOwnProperty.call(handlers, type);
}

/** The handles a request works on: requests sharing a handle run, and are answered, in order. */
export function orderingKeys(req: RequestPacket): string[] {
  if ('handle' in req) return [req.handle.toString('hex')];
  if (req.type === T.EXTENDED) return extensionHandles(req).map((h) => h.toString('hex'));
  return [];
}
