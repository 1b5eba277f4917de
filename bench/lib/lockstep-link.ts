/**
 * A link that counts round trips instead of timing them. It sits between an SFTP client and its
 * server's stream and moves packets in lockstep: the client's requests are held until the client has
 * been quiet for `quietMs` (it sent everything it could without a reply), then go to the server as
 * one batch — one round; the replies are held until every request of the batch is answered, then go
 * to the client together. The client reacts (sends what those replies allowed), and so on.
 *
 * `rounds` is then how many times the client had to wait for replies before it could send more: the
 * depth of its critical path in round trips, what a link with a long round-trip time multiplies. It
 * does not depend on how fast this machine is, only on what the client waits for. (Local work slower
 * than `quietMs` between a reply and the request it allows would count one round too many: pick it
 * well above the client's local work for one reply.)
 *
 * Every SFTP request gets exactly one reply and the server sends nothing else, so a batch is done once
 * as many packets came back as went out.
 */
import { Duplex } from 'node:stream';
import { PacketFramer } from '../../src/protocol/index.js';

export interface LockstepLinkOptions {
  /** How long the client must have sent nothing before its held requests go out as one round (default 25 ms). */
  quietMs?: number;
}

export class LockstepLink {
  /** Rounds so far (batches sent to the server). */
  rounds = 0;
  /** Requests per round, by packet type name (for reports: what each round carried). */
  readonly log: Array<Map<number, number>> = [];
  private readonly quietMs: number;
  private outbox: Buffer[] = [];
  private outTypes = new Map<number, number>();
  private outCount = 0;
  private inbox: Buffer[] = [];
  /** Replies still due for the batch at the server (0: no batch out). */
  private due = 0;
  private timer: NodeJS.Timeout | undefined;
  private inner: Duplex | undefined;
  private outer: Duplex | undefined;

  constructor(opts: LockstepLinkOptions = {}) {
    this.quietMs = opts.quietMs ?? 25;
  }

  /** Forget the rounds counted so far (e.g. after the session's start). */
  reset(): void {
    this.rounds = 0;
    this.log.length = 0;
  }

  /** Put the link in front of `inner` (the server's side); the client talks to the returned stream. */
  wrap(inner: Duplex): Duplex {
    this.inner = inner;
    const outFramer = new PacketFramer({
      onPacket: (b) => {
        const packet = Buffer.allocUnsafe(4 + b.length);
        packet.writeUInt32BE(b.length, 0);
        b.copy(packet, 4);
        this.outbox.push(packet);
        this.outCount++;
        const type = b[0]!;
        this.outTypes.set(type, (this.outTypes.get(type) ?? 0) + 1);
      },
    });
    const inFramer = new PacketFramer({
      onPacket: (b) => {
        const packet = Buffer.allocUnsafe(4 + b.length);
        packet.writeUInt32BE(b.length, 0);
        b.copy(packet, 4);
        this.inbox.push(packet);
        if (--this.due === 0) this.deliver();
      },
    });
    const outer = new Duplex({
      write: (chunk: Buffer, _enc, cb) => {
        outFramer.push(chunk);
        this.armQuiet();
        cb();
      },
      final: (cb) => {
        this.flush();
        inner.end();
        cb();
      },
      read() {},
      destroy: (err, cb) => {
        if (this.timer) clearTimeout(this.timer);
        inner.destroy(err ?? undefined);
        cb(err);
      },
    });
    this.outer = outer;
    inner.on('data', (c: Buffer) => inFramer.push(c));
    inner.on('end', () => {
      if (this.timer) clearTimeout(this.timer);
      this.deliver();
      outer.push(null);
    });
    inner.on('close', () => outer.destroy());
    inner.on('error', (e) => outer.destroy(e));
    return outer;
  }

  private armQuiet(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      if (this.due === 0) this.flush();
    }, this.quietMs);
  }

  /** Send the held requests to the server as one round. */
  private flush(): void {
    if (this.outbox.length === 0 || this.due > 0) return;
    const batch = Buffer.concat(this.outbox);
    this.outbox = [];
    this.due = this.outCount;
    this.outCount = 0;
    this.rounds++;
    this.log.push(this.outTypes);
    this.outTypes = new Map();
    this.inner!.write(batch);
  }

  /** Every reply of the round is in: hand them all to the client at once. */
  private deliver(): void {
    this.due = 0;
    if (this.inbox.length > 0) {
      const batch = Buffer.concat(this.inbox);
      this.inbox = [];
      this.outer!.push(batch);
    }
    // Requests the client sent while the round was out go in the next one once it is quiet again.
    if (this.outbox.length > 0) this.armQuiet();
  }
}
