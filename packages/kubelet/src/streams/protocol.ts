/**
 * The node's half of the apiserver↔node stream protocol for exec, attach and port-forward over NATS.
 * The protocol is defined (and documented) by the apiserver's packages/apiserver/src/pod_streams.ts;
 * these are its constants as the node agent speaks them (test/node/streams_nats.test.ts runs both
 * halves against each other).
 */
export type StreamKind = 'exec' | 'attach' | 'portforward';

export const STREAM_SUBJECT = (node: string, kind: StreamKind): string => `k8ts.node.${node}.${kind}`;

/** Frames the node sends (first byte of each message). */
export const NodeFrame = { READY: 0, STDOUT: 1, STDERR: 2, ACK: 3, EXIT: 4, ERROR: 5, OUTPUT_END: 6, KEEPALIVE: 7 } as const;
/** Frames the apiserver sends. */
export const ApiFrame = { STDIN: 0, STDIN_END: 1, RESIZE: 2, ACK: 3, CANCEL: 4, START: 5, KEEPALIVE: 6 } as const;
/** Each side's keepalive period; three without a word end the session. */
export const KEEPALIVE_MS = 10_000;
/** Unacknowledged data bytes a side may have in flight. */
export const WINDOW_BYTES = 256 * 1024;
export const MAX_FRAME_BYTES = 32 * 1024;

export interface ExecRequest {
  readonly namespace: string;
  readonly pod: string;
  readonly container: string;
  readonly command: readonly string[];
  readonly stdin: boolean;
  readonly stdout: boolean;
  readonly stderr: boolean;
  readonly tty: boolean;
}

export type AttachRequest = Omit<ExecRequest, 'command'>;

export interface PortForwardRequest {
  readonly namespace: string;
  readonly pod: string;
  readonly port: number;
}

export function frame(kind: number, body?: Uint8Array | string): Uint8Array {
  const bytes = typeof body === 'string' ? new TextEncoder().encode(body) : (body ?? new Uint8Array(0));
  const out = new Uint8Array(bytes.length + 1);
  out[0] = kind;
  out.set(bytes, 1);
  return out;
}

export function ackFrame(kind: number, count: number): Uint8Array {
  const out = new Uint8Array(5);
  out[0] = kind;
  new DataView(out.buffer).setUint32(1, count);
  return out;
}

export function readAck(data: Uint8Array): number {
  return new DataView(data.buffer, data.byteOffset + 1, 4).getUint32(0);
}

export function frameJson<T>(data: Uint8Array): T {
  return JSON.parse(new TextDecoder().decode(data.subarray(1))) as T;
}
