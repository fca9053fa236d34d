/**
 * The apiserver↔node stream protocol for exec, attach and port-forward over NATS: one definition
 * for both halves (packages/apiserver's NatsNodeStreams, packages/kubelet's NodeStreamServer).
 *
 * What `pods/exec`, `pods/attach` and `pods/portforward` ask of the pod's node: a two-way byte
 * stream between the apiserver and the node agent over NATS (signals and streams over NATS — see
 * GUIDE.md). The apiserver speaks kubectl's protocols (WebSocket, SPDY) on one side; this is the
 * other side.
 *
 * The protocol, for node agents:
 * - The apiserver publishes the request on `k8ts.node.<node>.exec` (`.attach`, `.portforward`), its
 *   payload the JSON of ExecRequest, AttachRequest or PortForwardRequest, its reply subject an inbox R.
 * - Every message after that is a frame: its first byte is the kind (`NodeFrame`, `ApiFrame`), the rest
 *   its body.
 * - Node → R: READY `{"input": N}` first, once the container is found running (port-forward: the pod's
 *   sandbox), naming the subject it reads the apiserver's frames on; or ERROR instead. Then STDOUT and
 *   STDERR bytes (port-forward: STDOUT carries the port's bytes, and OUTPUT_END says the pod's side
 *   closed its output), ACKs, and last EXIT `{"exitCode"?}` (port-forward: the connection ended) or
 *   ERROR `{"code", "message"}` (code: the RuntimeError code).
 * - apiserver → N: START once the client's streams are open (the node runs the command, attaches,
 *   or connects to the port only then, so nothing is written before the client can read it), STDIN
 *   bytes (port-forward: bytes for the port), STDIN_END (the client closed its input), RESIZE
 *   `{"width","height"}`, ACKs, and CANCEL (the client went away: stop, send nothing more).
 * - Flow control: a side sends STDIN/STDOUT/STDERR bytes only while fewer than WINDOW_BYTES of them
 *   are unacknowledged; the receiver sends ACK (a uint32, big-endian: a byte count) once its consumer
 *   has taken them (the client's socket, the process's stdin), so a slow reader slows the writer
 *   instead of filling anyone's memory. Data frames carry at most MAX_FRAME_BYTES.
 * - Liveness: from READY on, each side sends KEEPALIVE every KEEPALIVE_MS (10 s by default); a side
 *   that hears nothing from the other for three intervals ends the session (the node stops the
 *   process: an apiserver that died leaves nothing running; the apiserver reports a node that died).
 */
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

export type StreamRequest =
  | ({ readonly kind: 'exec' } & ExecRequest)
  | ({ readonly kind: 'attach' } & AttachRequest)
  | ({ readonly kind: 'portforward' } & PortForwardRequest);

export const STREAM_SUBJECT = (node: string, kind: StreamRequest['kind']): string => `k8ts.node.${node}.${kind}`;

/** Frames the node sends. */
export const NodeFrame = { READY: 0, STDOUT: 1, STDERR: 2, ACK: 3, EXIT: 4, ERROR: 5, OUTPUT_END: 6, KEEPALIVE: 7 } as const;
/** Frames the apiserver sends. */
export const ApiFrame = { STDIN: 0, STDIN_END: 1, RESIZE: 2, ACK: 3, CANCEL: 4, START: 5, KEEPALIVE: 6 } as const;
export const KEEPALIVE_MS = 10_000;
export const WINDOW_BYTES = 256 * 1024;
export const MAX_FRAME_BYTES = 32 * 1024;
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
