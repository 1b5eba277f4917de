// What serving a session needs beyond SftpServer itself: the session with its request handlers, its
// context and the atomic upload store. Loaded by deferred-session.ts on the first serve(), not by
// importing the server: the public entry exports SftpServer, and a client must not pay for these.
export { Session } from './session.js';
export { SessionContext } from './context.js';
export { UploadStore } from './atomic/upload-store.js';
