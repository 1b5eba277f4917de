import type { Limits } from '../protocol/index.js';

/**
 * Every default of the client, in one place: how much is in flight at each level, chunk sizes, memory
 * bounds and time limits. How the window applies them (FIFO, urgent takers, the byte cap) is the
 * policy of core/window.ts; the numbers are here.
 */

// ---- the session (one SFTP channel) -----------------------------------------------------------

/** Requests in flight at most over the whole session (SessionOptions.maxRequests). */
export const SESSION_MAX_REQUESTS = 256;
/** Bytes in flight at most over the whole session: WRITE payloads plus READ lengths asked (SessionOptions.maxBytes). */
export const SESSION_MAX_BYTES = 32 * 1024 * 1024;

/** The limits used when the server does not advertise limits@openssh.com: the draft's safe sizes. */
export const DEFAULT_LIMITS: Readonly<Limits> = Object.freeze({
  maxPacketLength: 34000,
  maxReadLength: 32 * 1024,
  maxWriteLength: 32 * 1024,
  maxOpenHandles: 0,
});

// ---- one file ------------------------------------------------------------------------------------

/** The largest chunk a transfer uses by default, whatever the server allows. */
export const MAX_DEFAULT_CHUNK = 256 * 1024;
/** Requests in flight per transfer (ClientOptions.requests, TransferOptions.requests). */
export const DEFAULT_REQUESTS = 32;
/** Bytes a download accepts for its local file before they are written (write-behind). */
export const WRITE_BEHIND_BYTES = 4 * 1024 * 1024;
/**
 * A download's local writes wait until this many bytes are ready (or the end): one thread-pool trip
 * per 2 MiB instead of one per chunk or two. Within WRITE_BEHIND_BYTES.
 */
export const WRITE_BEHIND_BATCH = 2 * 1024 * 1024;
/** Bytes an upload reads from its local file at once (a whole number of chunks, at least one). */
export const FILE_SOURCE_BLOCK = 2 * 1024 * 1024;
/** Block memory an upload's local source keeps for reuse. */
export const FILE_SOURCE_SPARE_BYTES = 16 * 1024 * 1024;
/** Resume and verify: bytes read back at the end when nothing better is known (at least chunk x requests). */
export const DEFAULT_TAIL_WINDOW = 1024 * 1024;
/** Resume: ranges acknowledged above a gap that an upload remembers at most (its checkpoint's memory bound). */
export const CONTIGUOUS_MAX_RANGES = 4096;
/** Resume: bytes before a checkpoint that are read back too. */
export const VERIFY_SAMPLE = 64 * 1024;

// ---- listings ------------------------------------------------------------------------------------

/** READDIR requests scandir keeps in flight ahead of its caller. */
export const DEFAULT_READ_AHEAD = 4;
/**
 * The most entries `list()` collects by default. A decoded entry (name, long name, attributes) holds
 * about 280 bytes of heap (bench/list-heap.ts: 283 bytes for `ls -l`-like entries, 143
 * for bare names), so a million is under 300 MiB: a bound a process survives, and more than a
 * directory anyone lists in one call. Past it, stream with scandir.
 */
export const DEFAULT_LIST_MAX_ENTRIES = 1_000_000;

// ---- trees (putTree, getTree, rmtree) ---------------------------------------------------------

/** Requests in flight over a whole tree. */
export const DEFAULT_TREE_REQUESTS = 256;
/** WRITE/READ bytes in flight over a whole tree. */
export const DEFAULT_TREE_BYTES = 16 * 1024 * 1024;
/** Open handles when the server does not advertise its limit. */
export const DEFAULT_TREE_HANDLES = 64;
/** The most handles a tree takes by default, whatever the server allows. */
export const MAX_DEFAULT_TREE_HANDLES = 128;
/**
 * READDIRs a tree keeps in flight per directory listed (two at first: a small directory's entries and
 * its end come back in one round trip). Directories are listed at once up to half the handle cap.
 */
export const TREE_READ_AHEAD = 4;
/** READDIR replies in flight or not yet acted on over a whole tree: what bounds the entries held. */
export const TREE_MAX_READDIRS = 64;
/** Requests in flight for one file of a tree sent through put()/get() (atomic, resume): at most this, else its share of the tree's window. */
export const TREE_FILE_MAX_REQUESTS = 32;
/** Requests in flight when a tree download fetches again a file that changed since it was listed. */
export const TREE_REFETCH_REQUESTS = 8;

// ---- time ----------------------------------------------------------------------------------------

/** How long connecting may take: opening the channel, INIT/VERSION and the limits query. */
export const DEFAULT_HANDSHAKE_TIMEOUT_MS = 30_000;
/** After an abort, how long a cleanup request's reply is still awaited (ClientOptions.abortGraceMs). */
export const DEFAULT_ABORT_GRACE_MS = 1000;
/** end(): a server that answers nothing for this long while requests are pending is given up on. */
export const END_STALL_MS = 10_000;
/** end(): how long the peer has to close the stream after ours was ended. */
export const END_CLOSE_GRACE_MS = 2000;
