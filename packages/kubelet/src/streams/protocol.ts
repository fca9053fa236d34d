/**
 * The node's names for the apiserver↔node stream protocol, defined once in @k8ts/proto
 * (node_streams.ts, which documents it).
 */
export {
  ApiFrame,
  KEEPALIVE_MS,
  MAX_FRAME_BYTES,
  NodeFrame,
  STREAM_SUBJECT,
  WINDOW_BYTES,
  ackFrame,
  frame,
  frameJson,
  readAck,
  type AttachRequest,
  type ExecRequest,
  type PortForwardRequest,
} from '@k8ts/proto';
export type StreamKind = 'exec' | 'attach' | 'portforward';
