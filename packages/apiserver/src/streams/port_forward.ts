import type { NodeStreamSession, StreamOutput } from '../pod_streams.js';
import type { SpdyConnection, SpdyStream } from './spdy.js';

/** Opens the node's side of one forwarded connection to `port`. */
export type OpenPort = (port: number, output: StreamOutput) => Promise<NodeStreamSession>;

/**
 * portforward.k8s.io over a SPDY connection, as the kubelet serves it: for each connection the
 * client opens an error stream and a data stream with the same `port` and `requestID` headers; the
 * pair is forwarded to the pod's port through the node, and anything that goes wrong is written on
 * the error stream before both are closed.
 */
export function servePortForward(connection: SpdyConnection, open: OpenPort): void {
  const pairs = new Map<string, { data?: SpdyStream; error?: SpdyStream }>();
  const sessions = new Set<Promise<NodeStreamSession>>();
  connection.on('stream', (stream: SpdyStream) => {
    const type = stream.headers['streamtype'];
    if (type !== 'data' && type !== 'error') return stream.reset();
    // Clients before requestID paired an error stream N with the data stream N+2.
    const requestId = stream.headers['requestid'] ?? String(type === 'error' ? stream.id : stream.id - 2);
    const pair = pairs.get(requestId) ?? {};
    pair[type] = stream;
    pairs.set(requestId, pair);
    if (pair.data === undefined || pair.error === undefined) return;
    pairs.delete(requestId);
    const session = forward(pair.data, pair.error, open);
    sessions.add(session);
    void session.then(
      (opened) => opened.finished.finally(() => sessions.delete(session)).catch(() => undefined),
      () => sessions.delete(session),
    );
  });
  connection.on('close', () => {
    for (const session of sessions) void session.then((opened) => opened.cancel(), () => undefined);
  });
}

function forward(data: SpdyStream, error: SpdyStream, open: OpenPort): Promise<NodeStreamSession> {
  const portText = data.headers['port'] ?? '';
  const port = Number(portText);
  const fail = async (message: string): Promise<void> => {
    await error.write(Buffer.from(message, 'utf8')).catch(() => undefined);
    error.end();
    data.end();
  };
  if (portText === '' || !Number.isInteger(port) || port < 1 || port > 65535) {
    const message = portText === '' ? '"port" header is required' : `unable to parse "${portText}" as a port: invalid port`;
    void fail(message).catch(() => undefined);
    return Promise.reject(new Error(message));
  }
  const opening = open(port, async (kind, chunk) => {
    if (kind === 'end') data.end();
    else await data.write(chunk);
  });
  // Bytes the client sends before the node answered wait for it (the connection's reading pauses).
  data.onData = async (chunk) => {
    const session = await opening.catch(() => undefined);
    await session?.write(chunk);
  };
  data.on('end', () => void opening.then((session) => session.endInput(), () => undefined));
  data.on('close', () => void opening.then((session) => session.cancel(), () => undefined));
  void opening.then((session) => session.start(), () => undefined);
  void opening.then(
    (session) =>
      session.finished.then(
        () => {
          data.end();
          error.end();
        },
        (failure: unknown) => fail(failure instanceof Error ? failure.message : String(failure)),
      ),
    (failure: unknown) => fail(failure instanceof Error ? failure.message : String(failure)),
  ).catch(() => undefined); // ending streams that already closed: nothing left to tell
  return opening;
}
