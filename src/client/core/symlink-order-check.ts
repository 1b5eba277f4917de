/**
 * SYMLINK's wire order for one session, checked once where it was only guessed.
 *
 * Servers disagree on the order of SYMLINK's two paths (OpenSSH reads the target first, the draft the
 * link path first), and nothing in the protocol says which one a server reads: the client guesses it
 * from the server's SSH identification or its extensions. A wrong guess makes a link at the target's
 * name pointing at the link path. So the first symlink made with a guessed order is looked at:
 *
 *   1. READLINK of the link path: it reads back the target -> the guess was right.
 *   2. Otherwise READLINK of the target's name: it reads back the link path -> the paths were swapped.
 *      That link is the one just made (a name that already existed would have failed the SYMLINK), so
 *      it is removed, the order flipped and the symlink made again in the other order.
 *   3. Neither (the server has no READLINK, or rewrites what it reads back) -> the guess is kept.
 *
 * Either way the order is settled for the rest of the session: at most one check per session.
 * Symlinks asked while the check runs wait for it. An order given explicitly is never checked, and a
 * SYMLINK that fails leaves the order unchecked (the next one is checked). Errors of the check's own
 * READLINKs are not the caller's: the symlink was made, so the call resolves.
 */
import type { RequestOptions } from './session.js';

/** What the check needs of the client (requests as SftpClient sends them). */
export interface SymlinkRequests {
  /** One SYMLINK with its two paths in wire order. */
  sendSymlink(first: string, second: string, opts?: RequestOptions): Promise<void>;
  readlink(path: string, opts?: RequestOptions): Promise<string>;
  remove(path: string, opts?: RequestOptions): Promise<void>;
}

export type SymlinkWireOrder = 'openssh' | 'draft';

export class SymlinkOrderCheck {
  private targetFirst: boolean;
  private settled: boolean;
  /** The check in progress: other symlinks wait for it before they are sent. */
  private checking: Promise<void> | undefined;

  /** `explicit`: the order was given by the user, so it is used as is and never checked. */
  constructor(targetFirst: boolean, explicit: boolean) {
    this.targetFirst = targetFirst;
    this.settled = explicit;
  }

  /** The order SYMLINK is sent in now. */
  get order(): SymlinkWireOrder {
    return this.targetFirst ? 'openssh' : 'draft';
  }

  /** True once the order is no longer a guess: given explicitly or checked on this session. */
  get checked(): boolean {
    return this.settled;
  }

  /** Create `linkPath` pointing at `target` (Node's fs order), checking the order on the first one. */
  async symlink(peer: SymlinkRequests, target: string, linkPath: string, opts?: RequestOptions): Promise<void> {
    while (this.checking) await this.checking;
    if (this.settled || target === linkPath) return this.send(peer, target, linkPath, opts);
    let done!: () => void;
    this.checking = new Promise<void>((r) => (done = r));
    try {
      await this.send(peer, target, linkPath, opts); // a failure leaves the order unchecked
      await this.check(peer, target, linkPath, opts);
    } finally {
      this.checking = undefined;
      done();
    }
  }

  private send(peer: SymlinkRequests, target: string, linkPath: string, opts?: RequestOptions): Promise<void> {
    return this.targetFirst ? peer.sendSymlink(target, linkPath, opts) : peer.sendSymlink(linkPath, target, opts);
  }

  /** After a SYMLINK in the guessed order succeeded: keep the guess, or undo the swapped link and redo. */
  private async check(peer: SymlinkRequests, target: string, linkPath: string, opts?: RequestOptions): Promise<void> {
    const read = (p: string): Promise<string | undefined> => peer.readlink(p, opts).catch(() => undefined);
    if ((await read(linkPath)) === target || (await read(target)) !== linkPath) {
      this.settled = true;
      return;
    }
    // Swapped: the server made `target` a link to `linkPath`. Undo it and make the one asked for.
    this.targetFirst = !this.targetFirst;
    this.settled = true;
    await peer.remove(target, opts);
    await this.send(peer, target, linkPath, opts);
  }
}
