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

/** Key shared by every CLOSE: commits of atomic uploads take effect in the order their CLOSEs came. */
const CLOSE_KEY = 'close';

/**
 * How a request is ordered against the others of its session. A request on handles (READ, WRITE,
 * FSTAT, FSETSTAT, READDIR, CLOSE, handle extensions) gets those handles' keys: it runs after the
 * earlier requests on the same handles, concurrently with other handles' work. Every other request
 * names a path or changes the namespace (OPEN, MKDIR, RENAME, STAT, path extensions...): it gets
 * `null`, meaning it runs alone, after every earlier request and before every later one, so a
 * pipelined client sees each take effect in the order sent (as with a server that runs one request
 * at a time). A request on a handle also waits for the path requests sent before it.
 */
export function orderingKeys(req: RequestPacket): string[] | null {
  if ('handle' in req) {
    const key = req.handle.toString('hex');
    return req.type === T.CLOSE ? [key, CLOSE_KEY] : [key];
  }
  if (req.type === T.EXTENDED) {
    const handles = extensionHandles(req).map((h) => h.toString('hex'));
    return handles.length > 0 ? handles : null;
  }
  return null;
}
