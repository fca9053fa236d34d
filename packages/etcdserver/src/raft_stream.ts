/**
 * The Raft peer stream: a plain TCP connection on the peer port, told apart from gRPC and HTTP by
 * its first bytes (the port's listener looks, as etcd's cmux does). After the preface the sender
 * writes frames — a uint32 BE length, then one RaftMessage (raft_codec.ts) — and nothing flows
 * back unless the receiver refuses the stream: then one frame of JSON {code, details} (gRPC status
 * codes, as before) and the connection ends.
 *
 * Why not a gRPC client stream, as it was: every message then paid for grpc-js's call layers and an
 * HTTP/2 DATA frame on both ends, several times per write, for nothing Raft uses (it retries and
 * orders what it needs itself). Snapshots and the leader-forwarding calls stay on gRPC.
 */
export const RAFT_STREAM_PREFACE = Buffer.from('K8TS-RAFT-STREAM/1\n');

/** A bound on one frame: far above any append (Raft caps those at ~1 MiB plus one entry). */
export const MAX_FRAME_BYTES = 256 * 1024 * 1024;

/** What the receiver says before it ends a stream it refuses. */
export interface StreamRefusal {
  readonly code: number;
  readonly details: string;
}

/** `body` with its length in front; `body` may keep 4 bytes free at its start for it (`reserved`). */
export function frame(body: Buffer, reserved = false): Buffer {
  if (reserved) {
    body.writeUInt32BE(body.length - 4, 0);
    return body;
  }
  const out = Buffer.allocUnsafe(4 + body.length);
  out.writeUInt32BE(body.length, 0);
  body.copy(out, 4);
  return out;
}

/** Cuts a byte stream into frames; holds a partial frame until the rest arrives. */
export class FrameReader {
  private pending: Buffer | undefined;

  constructor(private readonly maxFrameBytes = MAX_FRAME_BYTES) {}

  /** The frames `chunk` completes, in order. Throws on a frame over the bound (the stream is garbage). */
  push(chunk: Buffer): Buffer[] {
    let bytes = this.pending === undefined ? chunk : Buffer.concat([this.pending, chunk]);
    this.pending = undefined;
    const frames: Buffer[] = [];
    while (bytes.length >= 4) {
      const length = bytes.readUInt32BE(0);
      if (length > this.maxFrameBytes) throw new Error(`raft stream frame of ${length} bytes exceeds the ${this.maxFrameBytes}-byte bound`);
      if (bytes.length < 4 + length) break;
      frames.push(bytes.subarray(4, 4 + length));
      bytes = bytes.subarray(4 + length);
    }
    if (bytes.length > 0) this.pending = bytes;
    return frames;
  }
}

/** "host:port" (the host maybe an [IPv6] literal) as net.connect wants it. */
export function splitAddress(address: string): { host: string; port: number } {
  const colon = address.lastIndexOf(':');
  const host = address.slice(0, colon).replace(/^\[(.*)\]$/, '$1');
  return { host, port: Number(address.slice(colon + 1)) };
}
