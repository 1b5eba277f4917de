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

  wrap(inner: Duplex): Duplex {
    const outF = new PacketFramer({ onPacket: (b) => this.onOut(decodePacket(b)) });
    const inF = new PacketFramer({ onPacket: (b) => this.onIn(decodePacket(b)) });
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
        inner.resume();
      },
      destroy(err, cb) {
        inner.destroy(err ?? undefined);
        cb(err);
      },
    });
    inner.on('data', (c: Buffer) => {
      inF.push(c);
      if (!outer.push(c)) inner.pause();
    });
    inner.on('end', () => outer.push(null));
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
    }
    this.inflight.set(p.id, { type: p.type, handle });
    this.peakInflight = Math.max(this.peakInflight, this.inflight.size);
    if (handle && (p.type === T.WRITE || p.type === T.CLOSE || p.type === T.READ || p.type === T.FSETSTAT)) this.log(handle, `${T_NAME[p.type]}>`);
  }

  private onIn(p: Packet): void {
    if (!('id' in p)) return;
    const req = this.inflight.get(p.id);
    this.inflight.delete(p.id);
    if (!req) return;
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
    if (req.handle && (req.type === T.WRITE || req.type === T.CLOSE || req.type === T.READ || req.type === T.FSETSTAT)) this.log(req.handle, `<${T_NAME[req.type]}`);
    if (req.type === T.CLOSE && req.handle) {
      this.open.delete(req.handle);
      this.current.delete(req.handle);
    }
  }
}

const T_NAME: Record<number, string> = { [T.WRITE]: 'WRITE', [T.CLOSE]: 'CLOSE', [T.READ]: 'READ', [T.FSETSTAT]: 'FSETSTAT' };
