/** The shapes passed between the bench orchestrator and its worker processes (JSON over IPC). */
import type { ContenderId } from './index.js';

/**
 * LARGE: one big file; SMALL: many small files in a few directories; WIDE and DEEP: two more tree
 * shapes (see lib/dataset.ts TREE_SHAPES: 20 directories side by side, a chain 20 deep), run
 * against OpenSSH's sshd by the contenders that copy trees (sftp-wire's putTree/getTree, sftp -r); LIST: one
 * directory's listing.
 */
export type Workload = 'large' | 'small' | 'wide' | 'deep' | 'list';

/** The workloads that copy a tree of small files (files/s is their measure). */
export const TREE_WORKLOADS = ['small', 'wide', 'deep'] as const;
export type TreeWorkload = (typeof TREE_WORKLOADS)[number];

export function isTreeWorkload(w: Workload): w is TreeWorkload {
  return (TREE_WORKLOADS as readonly string[]).includes(w);
}
export type Direction = 'up' | 'down';

/** Cipher used by every contender (ssh2 client and server, OpenSSH client and sshd). */
export const CIPHER = 'aes128-gcm@openssh.com';

/** An SSH server to reach: our embedded one, or OpenSSH's sshd. */
export interface Endpoint {
  host: string;
  port: number;
  username: string;
  privateKeyPath: string;
}

export interface NodeJob {
  /** Whose runner does the job (see contenders/index.ts); 'idle' does nothing: the worker's baseline peak RSS. */
  contender: ContenderId | 'idle';
  workload: Workload;
  direction: Direction;
  endpoint: Endpoint;
  /** Client-side path: the source (up) or the destination (down). */
  localPath: string;
  /** Server-side path as the server names it: the destination (up) or the source (down). */
  remotePath: string;
  /** Bytes to move (LARGE and raw). */
  bytes?: number;
  /** Requests in flight per file and chunk size (sftp-wire and ssh2 fast*). */
  requests?: number;
  chunkSize?: number;
  /** Files in flight (SMALL). */
  concurrency?: number;
}

export interface NodeJobResult {
  /** Wall time of the transfer itself (connection set-up excluded). */
  seconds: number;
  /** LIST: time until the first entry arrived. */
  firstEntrySeconds?: number;
  /** LIST: digest of the names listed (checked by the orchestrator; see ListingDigester). */
  listing?: { count: number; h1: number; h2: number };
  /** Peak resident set of the worker process so far (kernel maxRSS), bytes. */
  maxRssBytes: number;
}

export type WorkerRequest = { type: 'job'; id: number; job: NodeJob };
export type WorkerReply =
  | { type: 'ready' }
  | { type: 'result'; id: number; result: NodeJobResult }
  | { type: 'error'; id: number; message: string };

/** Shell commands of the raw-channel limit; the embedded server understands exactly these. */
export const RAW_SINK_COMMAND = 'echo ready; exec cat > /dev/null';
export function rawSourceCommand(bytes: number): string {
  return `head -c ${Math.floor(bytes)} /dev/zero`;
}
export function parseRawSource(command: string): number | null {
  const m = /^head -c (\d+) \/dev\/zero$/.exec(command);
  return m ? Number(m[1]) : null;
}
