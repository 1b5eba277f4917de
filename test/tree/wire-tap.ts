import { Duplex } from 'node:stream';
import { PacketFramer, PacketType as T, decodePacket, type Packet } from '../../src/protocol/index.js';

interface Sent {
  type: number;
  handle?: string;
}

/**
 * Sits between a client and a server stream and decodes every packet both ways, to check what the
 * client put on the wire and when: requests in flight, handles open, and the order of events.
 */
export class WireTap {
  /** Requests sent and not answered yet, by id. */
  readonly inflight = new Map<number, Sent>();
  /** Handles the server gave and that were not closed yet (hex). */
  readonly open = new Set<string>();
  peakInflight = 0;
  peakOpen = 0;
  /** Per opened file (one list per OPEN): its events in wire order ('WRITE>' sent, '<WRITE' answered, ...). */
  readonly files: string[][] = [];
  private readonly current = new Map<string, string[]>();
  /** OPENs sent while some other handle still had a request in flight (files overlapping). */
  opensOverlapping = 0;
  opens = 0;
  readonly sentTypes: number[] = [];
  /**
   * Hold back the replies to the first file's requests after its OPEN (its WRITEs, CLOSE...) until
   * the client has sent this many OPENs: a client that waits for one file to finish before opening
   * the next would never get there (a fallback releases them after 2 s so it fails instead of hanging).
   */
  holdFirstFileUntilOpens = 0;
  /** True when the fallback had to release held replies. */
  holdFallbackUsed = false;
  private heldHandle: string | undefined;
  private holdDone = false;
  private readonly held: Buffer[] = [];
  private holdTimer: NodeJS.Timeout | undefined;
  private forward: (b: Buffer) => void = () => {};

  wrap(inner: Duplex): Duplex {
    let paused = false;
    const outF = new PacketFramer({ onPacket: (b) => this.onOut(decodePacket(b)) });
    const inF = new PacketFramer({
      onPacket: (b) => {
        const packet = Buffer.alloc(4 + b.length);
        packet.writeUInt32BE(b.length, 0);
        b.copy(packet, 4);
        if (this.onIn(decodePacket(b))) this.held.push(packet);
        else this.forward(packet);
      },
    });
    const outer: Duplex = new Duplex({
      write(chunk: Buffer, _enc, cb) {
        outF.push(chunk);
        inner.write(chunk, cb);
      },
      final(cb) {
        inner.end();
        cb();
      },
      read() {
        if (paused) {
          paused = false;
          inner.resume();
        }
      },
      destroy(err, cb) {
        inner.destroy(err ?? undefined);
        cb(err);
      },
    });
    this.forward = (b) => {
      if (!outer.push(b) && !paused) {
        paused = true;
        inner.pause();
      }
    };
    inner.on('data', (c: Buffer) => inF.push(c));
    inner.on('end', () => {
      this.release();
      outer.push(null);
    });
    inner.on('close', () => outer.destroy());
    inner.on('error', (e) => outer.destroy(e));
    return outer;
  }

  private log(handle: string, ev: string): void {
    this.current.get(handle)?.push(ev);
  }

  private onOut(p: Packet): void {
    if (!('id' in p)) return;
    this.sentTypes.push(p.type);
    const handle = 'handle' in p && Buffer.isBuffer(p.handle) ? p.handle.toString('hex') : undefined;
    if (p.type === T.OPEN) {
      this.opens++;
      if ([...this.inflight.values()].some((s) => s.handle !== undefined)) this.opensOverlapping++;
      if (this.heldHandle !== undefined && this.opens >= this.holdFirstFileUntilOpens)
        setImmediate(() => this.release());
    }
    this.inflight.set(p.id, { type: p.type, handle });
    this.peakInflight = Math.max(this.peakInflight, this.inflight.size);
    if (handle && (p.type === T.WRITE || p.type === T.CLOSE || p.type === T.READ || p.type === T.FSETSTAT))
      this.log(handle, `${T_NAME[p.type]}>`);
  }

  private release(): void {
    if (this.holdDone) return;
    this.holdDone = true;
    this.heldHandle = undefined;
    if (this.holdTimer) clearTimeout(this.holdTimer);
    for (const b of this.held.splice(0)) this.forward(b);
  }

  /** Returns true when this reply is to be held back. */
  private onIn(p: Packet): boolean {
    if (!('id' in p)) return false;
    const req = this.inflight.get(p.id);
    this.inflight.delete(p.id);
    if (!req) return false;
    const hold = !this.holdDone && this.heldHandle !== undefined && req.handle === this.heldHandle;
    if (hold && !this.holdTimer) {
      this.holdTimer = setTimeout(() => {
        this.holdFallbackUsed = true;
        this.release();
      }, 2000);
    }
    if (
      p.type === T.HANDLE &&
      req.type === T.OPEN &&
      this.holdFirstFileUntilOpens > 0 &&
      !this.holdDone &&
      this.heldHandle === undefined
    ) {
      this.heldHandle = p.handle.toString('hex');
    }
    this.account(p, req);
    return hold;
  }

  private account(p: Packet, req: Sent): void {
    if (!('id' in p)) return;
    if (p.type === T.HANDLE && req.type === T.OPEN) {
      const events: string[] = [];
      this.files.push(events);
      this.current.set(p.handle.toString('hex'), events);
      this.open.add(p.handle.toString('hex'));
      this.peakOpen = Math.max(this.peakOpen, this.open.size);
    }
    if (req.type === T.OPENDIR && p.type === T.HANDLE) {
      this.open.add(p.handle.toString('hex'));
      this.peakOpen = Math.max(this.peakOpen, this.open.size);
    }
    if (req.handle && (req.type === T.WRITE || req.type === T.CLOSE || req.type === T.READ || req.type === T.FSETSTAT))
      this.log(req.handle, `<${T_NAME[req.type]}`);
    if (req.type === T.CLOSE && req.handle) {
      this.open.delete(req.handle);
      this.current.delete(req.handle);
    }
  }
}

const T_NAME: Record<number, string> = {
  [T.WRITE]: 'WRITE',
  [T.CLOSE]: 'CLOSE',
  [T.READ]: 'READ',
  [T.FSETSTAT]: 'FSETSTAT',
};
