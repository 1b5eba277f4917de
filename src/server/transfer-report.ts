import type { FileHandleEntry } from './handle-table.js';

/**
 * A file transfer that completed: a file handle the client closed with CLOSE, successfully. An
 * 'upload' is a handle opened for writing (for an atomic upload: once it is committed under its
 * final name); a 'download' a handle opened for reading only. A handle left open when the session
 * ends, a CLOSE that fails, and an upload cut short (discarded, or whose write failed) report nothing.
 */
export interface TransferReport {
  kind: 'upload' | 'download';
  /** The file's path inside the served tree, as the session sees it ("/docs/a.txt"). */
  path: string;
  /** Bytes this handle wrote (upload: WRITE requests, and copy-data into it) or READ returned (download). */
  bytes: number;
}

export type TransferListener = (report: TransferReport) => void;

/** Count bytes a READ returned on a handle. */
export function countRead(entry: FileHandleEntry, n: number): void {
  entry.bytesRead = (entry.bytesRead ?? 0) + n;
}

/** Count bytes a WRITE wrote on a handle. */
export function countWritten(entry: FileHandleEntry, n: number): void {
  entry.bytesWritten = (entry.bytesWritten ?? 0) + n;
}

/**
 * Report a file handle the client closed successfully (called after the close and any commit
 * succeeded). A listener that throws is not the client's business: the error goes to `log`.
 */
export function reportClosed(
  entry: FileHandleEntry,
  listener: TransferListener | undefined,
  log: (m: string) => void,
): void {
  if (!listener) return;
  if (entry.upload && (entry.upload.discarded || entry.upload.failed)) return;
  const report: TransferReport = entry.writable
    ? { kind: 'upload', path: entry.path, bytes: entry.bytesWritten ?? 0 }
    : { kind: 'download', path: entry.path, bytes: entry.bytesRead ?? 0 };
  try {
    listener(report);
  } catch (err) {
    log(`a transfer listener threw: ${(err as Error)?.message ?? String(err)}`);
  }
}
