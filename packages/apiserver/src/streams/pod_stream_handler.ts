import { STATUS_CODES, ServerResponse, type IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { ApiError, apiErrors, findResource, type ResourceType } from '@k8ts/apimachinery';
import type { Logger } from 'pino';
import { WebSocket, WebSocketServer, createWebSocketStream } from 'ws';
import type { ResourceService } from '../resource_service.js';
import { NodeStreamError, type NodeStreamSession, type NodeStreams, type StreamOutput, type StreamRequest } from '../pod_streams.js';
import { Channel, channelMessage, chooseProtocol, errorChannelMessage, exitCodeStatus, internalErrorStatus, parseClientMessage, successStatus, type ChannelProtocol, type ChannelStatus } from './channel.js';
import { SPDY_CHANNEL_PROTOCOLS, serveSpdyExec, type ChannelWriter, type SpdyExecOptions } from './spdy_exec.js';
import { servePortForward } from './port_forward.js';
import { SpdyConnection } from './spdy.js';
import { chooseContainer, type PodSpec } from './choose_container.js';

export interface PodStreamHandlerOptions {
  readonly service: ResourceService;
  /** The nodes' streams over NATS; absent without --nats-url. */
  readonly streams?: NodeStreams;
  readonly logger: Logger;
  /** Serves other requests that ask for an upgrade (`curl --http2` asks for h2c) as plain HTTP. */
  readonly fallback?: (request: IncomingMessage, response: ServerResponse) => void;
}

/** port-forward over WebSocket: SPDY tunnelled in binary messages (kubectl 1.31+). */
const TUNNEL_PROTOCOL = 'SPDY/3.1+portforward.k8s.io';
const PORT_FORWARD_PROTOCOL = 'portforward.k8s.io';
const STREAM_PATH = /^\/api\/v1\/namespaces\/([^/]+)\/pods\/([^/]+)\/(exec|attach|portforward)\/?$/;

type Subresource = 'exec' | 'attach' | 'portforward';

/** The request's pod, as read from the store. */
interface Target {
  readonly namespace: string;
  readonly name: string;
  readonly spec: PodSpec;
  readonly phase: string | undefined;
}

/**
 * pods/exec, pods/attach and pods/portforward: the HTTP upgrade requests kubectl makes (WebSocket,
 * or SPDY for port-forward's fallback). Validated as kube-apiserver does, then carried to the pod's
 * node over NATS (pod_streams.ts). Wire it to the HTTP server's 'upgrade' event.
 */
export class PodStreamHandler {
  private readonly websockets = new WebSocketServer({ noServer: true, perMessageDeflate: false });
  private readonly chosenProtocol = new WeakMap<IncomingMessage, string>();
  private readonly pods: ResourceType;

  constructor(private readonly options: PodStreamHandlerOptions) {
    this.pods = findResource('', 'v1', 'pods') as ResourceType;
    // The subprotocol is chosen here and answered by hand: ws refuses `SPDY/3.1+portforward.k8s.io`
    // ('/' is no token character), which is what kubectl asks for.
    this.websockets.on('headers', (headers: string[], request: IncomingMessage) => {
      const protocol = this.chosenProtocol.get(request);
      if (protocol !== undefined) headers.push(`Sec-WebSocket-Protocol: ${protocol}`);
    });
  }

  handleUpgrade = (request: IncomingMessage, socket: Duplex, head: Buffer): void => {
    socket.on('error', () => socket.destroy());
    const fallback = this.options.fallback;
    // Node parses no body once an upgrade is asked for (it is `head` and the socket's), so only a
    // bodiless request can be served as plain HTTP; one with a body gets the 400 below.
    const bodiless = Number(request.headers['content-length'] ?? 0) === 0 && request.headers['transfer-encoding'] === undefined;
    if (fallback && bodiless && !STREAM_PATH.test(new URL(request.url ?? '/', 'http://localhost').pathname)) {
      if (head.length > 0) socket.unshift(head);
      const response = new ServerResponse(request);
      response.assignSocket(socket as Socket);
      response.on('finish', () => socket.end());
      return fallback(request, response);
    }
    this.upgrade(request, socket, head).catch((error: unknown) => {
      if (!(error instanceof ApiError || error instanceof NodeStreamError)) {
        this.options.logger.warn({ url: request.url, err: String(error) }, 'stream request failed');
      }
      refuse(socket, error);
    });
  };

  private async upgrade(request: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    const url = new URL(request.url ?? '/', 'http://localhost');
    const match = STREAM_PATH.exec(url.pathname);
    if (match === null) throw apiErrors.badRequest(`the server does not upgrade connections for ${url.pathname}`);
    const [, namespace, name, subresource] = match.map((part) => decodeURIComponent(part)) as [string, string, string, Subresource];
    const pod = await this.options.service.get(this.pods, namespace, name);
    const target: Target = { namespace, name, spec: (pod['spec'] ?? {}) as PodSpec, phase: (pod['status'] as { phase?: string } | undefined)?.phase };
    if (subresource === 'portforward') return this.portForward(request, socket, head, target);
    return this.execOrAttach(request, socket, head, target, subresource, url.searchParams);
  }

  /** portforward.k8s.io: SPDY tunnelled through a WebSocket (kubectl 1.31+), or SPDY itself. */
  private async portForward(request: IncomingMessage, socket: Duplex, head: Buffer, { namespace, name, spec }: Target): Promise<void> {
    const node = assignedNode(spec.nodeName, name);
    const streams = this.streamsOrUnavailable();
    const open = (port: number, output: StreamOutput): Promise<NodeStreamSession> => streams.open(node, { kind: 'portforward', namespace, pod: name, port }, output);
    if (!isWebSocket(request)) {
      acceptSpdy(socket, head, negotiateSpdy(request, [PORT_FORWARD_PROTOCOL]));
      return servePortForward(new SpdyConnection(socket), open);
    }
    if (!protocolsOf(request).includes(TUNNEL_PROTOCOL)) throw apiErrors.badRequest(`port-forward over WebSocket needs the ${TUNNEL_PROTOCOL} subprotocol`);
    this.chosenProtocol.set(request, TUNNEL_PROTOCOL);
    const ws = await this.acceptWebSocket(request, socket, head);
    servePortForward(new SpdyConnection(createWebSocketStream(ws)), open);
  }

  /** The channel protocols: over WebSocket (v1-v5.channel.k8s.io) or SPDY (v1-v4). */
  private async execOrAttach(request: IncomingMessage, socket: Duplex, head: Buffer, { namespace, name, spec, phase }: Target, subresource: 'exec' | 'attach', query: URLSearchParams): Promise<void> {
    const websocket = isWebSocket(request);
    const container = chooseContainer(name, spec, query.get('container') ?? '');
    const command = query.getAll('command');
    if (subresource === 'exec' && command.length === 0) throw apiErrors.badRequest('you must specify at least 1 command');
    const wanted = { stdin: isTrue(query.get('stdin')), stdout: isTrue(query.get('stdout')), stderr: isTrue(query.get('stderr')), tty: isTrue(query.get('tty')) };
    if (!wanted.stdin && !wanted.stdout && !wanted.stderr) throw apiErrors.badRequest('you must specify at least one of stdin, stdout, stderr');
    // kubectl's own words for these (it checks before it connects; other clients get them from here).
    if (phase === 'Succeeded' || phase === 'Failed') {
      const what = subresource === 'exec' ? 'cannot exec into a container' : 'cannot attach a container';
      throw apiErrors.badRequest(`${what} in a completed pod; current phase is ${phase}`);
    }
    const node = assignedNode(spec.nodeName, name);
    const streams = this.streamsOrUnavailable();
    let protocol: ChannelProtocol | undefined;
    if (websocket) {
      protocol = chooseProtocol(protocolsOf(request));
      if (protocol === undefined) throw apiErrors.badRequest(`unable to upgrade: none of the offered subprotocols is served (${protocolsOf(request).join(', ')})`);
      this.chosenProtocol.set(request, protocol);
    } else {
      protocol = negotiateSpdy(request, SPDY_CHANNEL_PROTOCOLS);
    }
    const nodeRequest: StreamRequest =
      subresource === 'exec'
        ? { kind: 'exec', namespace, pod: name, container, command, ...wanted }
        : { kind: 'attach', namespace, pod: name, container, ...wanted };
    // The node may answer before the client's streams are open: its output waits for them.
    let openWriter!: (write: ChannelWriter) => void;
    let refuseWriter!: (error: unknown) => void;
    const writer = new Promise<ChannelWriter>((resolve, reject) => ((openWriter = resolve), (refuseWriter = reject)));
    writer.catch(() => undefined);
    const session = await streams.open(node, nodeRequest, async (stream, chunk) => (await writer)(stream === 'stderr' ? 'stderr' : 'stdout', chunk));
    const status = (result: { exitCode?: number } | { error: unknown }): ChannelStatus => {
      if ('error' in result) {
        const what = subresource === 'exec' ? 'error executing command in container' : 'error attaching to container';
        return internalErrorStatus(`${what}: ${result.error instanceof Error ? result.error.message : String(result.error)}`);
      }
      return subresource === 'exec' && result.exitCode !== undefined && result.exitCode !== 0 ? exitCodeStatus(command, result.exitCode) : successStatus();
    };
    if (!websocket) {
      acceptSpdy(socket, head, protocol);
      serveSpdyExec(new SpdyConnection(socket), { protocol: protocol as SpdyExecOptions['protocol'], ...wanted, session, ready: openWriter, status });
      return;
    }
    let ws: WebSocket;
    try {
      ws = await this.acceptWebSocket(request, socket, head);
    } catch (error) {
      session.cancel();
      refuseWriter(error);
      throw error;
    }
    openWriter((stream, chunk) => send(ws, channelMessage(stream === 'stderr' ? Channel.STDERR : Channel.STDOUT, chunk)));
    this.pump(ws, protocol, session, status);
    session.start();
  }

  private pump(ws: WebSocket, protocol: ChannelProtocol, session: NodeStreamSession, status: (result: { exitCode?: number } | { error: unknown }) => ChannelStatus): void {
    // No empty "ready" message, as kube-apiserver's stream translator sends none: kubectl 1.32 may
    // read a message before it has made its streams, and says so on stderr.
    let done = false;
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      if (!isBinary) return; // the binary channel protocols only
      const message = parseClientMessage(protocol, data);
      if (message.kind === 'stdin' && message.data.length > 0) {
        ws.pause();
        void session.write(message.data).finally(() => ws.resume()).catch(() => undefined);
      } else if (message.kind === 'resize') session.resize(message.width, message.height);
      else if (message.kind === 'close' && message.channel === Channel.STDIN) session.endInput();
    });
    ws.on('close', () => {
      if (!done) session.cancel();
    });
    ws.on('error', () => ws.terminate());
    const finish = (result: { exitCode?: number } | { error: unknown }): void => {
      done = true;
      ws.send(errorChannelMessage(protocol, status(result)));
      ws.close(1000);
    };
    session.finished.then(finish, (error: unknown) => finish({ error }));
  }

  private streamsOrUnavailable(): NodeStreams {
    if (this.options.streams === undefined) throw apiErrors.serviceUnavailable('exec, attach and port-forward reach the nodes over NATS: this apiserver runs without --nats-url');
    return this.options.streams;
  }

  private acceptWebSocket(request: IncomingMessage, socket: Duplex, head: Buffer): Promise<WebSocket> {
    return new Promise((resolve, reject) => {
      const closed = (): void => reject(new Error('the client closed the connection during the upgrade'));
      socket.once('close', closed);
      delete request.headers['sec-websocket-protocol'];
      this.websockets.handleUpgrade(request, socket, head, (ws) => {
        socket.off('close', closed);
        resolve(ws);
      });
    });
  }
}

/** The client's first protocol (X-Stream-Protocol-Version, in its order) that the server speaks, as httpstream.Handshake picks. */
function negotiateSpdy<P extends string>(request: IncomingMessage, served: readonly P[]): P {
  if ((request.headers.upgrade ?? '').toLowerCase() !== 'spdy/3.1') throw apiErrors.badRequest('Upgrade request required');
  const offered = String(request.headers['x-stream-protocol-version'] ?? '')
    .split(',')
    .map((value) => value.trim())
    .filter((value) => value !== '');
  const chosen = offered.find((protocol) => (served as readonly string[]).includes(protocol));
  if (chosen === undefined) throw apiErrors.badRequest(`unable to upgrade: unable to negotiate protocol: client supports [${offered.join(' ')}], server supports [${served.join(' ')}]`);
  return chosen as P;
}

function acceptSpdy(socket: Duplex, head: Buffer, protocol: string): void {
  socket.write(`HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: SPDY/3.1\r\nX-Stream-Protocol-Version: ${protocol}\r\n\r\n`);
  if (head.length > 0) socket.unshift(head);
}

function isWebSocket(request: IncomingMessage): boolean {
  return (request.headers.upgrade ?? '').toLowerCase() === 'websocket';
}

function protocolsOf(request: IncomingMessage): string[] {
  return String(request.headers['sec-websocket-protocol'] ?? '')
    .split(',')
    .map((value) => value.trim())
    .filter((value) => value !== '');
}

function assignedNode(nodeName: string | undefined, pod: string): string {
  if (!nodeName) throw apiErrors.badRequest(`pod ${pod} does not have a host assigned`);
  return nodeName;
}

/** The container to exec into or attach to, as kube-apiserver picks and checks it. */
function send(ws: WebSocket, data: Buffer): Promise<void> {
  if (ws.readyState !== WebSocket.OPEN) return Promise.resolve();
  return new Promise((resolve, reject) => ws.send(data, (error) => (error ? reject(error) : resolve())));
}

function isTrue(value: string | null): boolean {
  return value === 'true' || value === '1';
}

/**
 * Answers a request that will not be upgraded: an ApiError as its Status JSON (kubectl prints its
 * message), a node's refusal as the kubelet answers it (500, its text: "unable to upgrade
 * connection: container not found ...").
 */
function refuse(socket: Duplex, error: unknown): void {
  if (socket.destroyed) return;
  let code = 500;
  let type = 'text/plain; charset=utf-8';
  let body: string;
  if (error instanceof ApiError) {
    code = error.code;
    type = 'application/json';
    body = JSON.stringify(error.status);
  } else if (error instanceof NodeStreamError) {
    body = error.message;
  } else {
    const status = apiErrors.internal(error instanceof Error ? error.message : String(error));
    type = 'application/json';
    body = JSON.stringify(status.status);
  }
  const bytes = Buffer.from(body, 'utf8');
  socket.end(`HTTP/1.1 ${code} ${STATUS_CODES[code] ?? ''}\r\nContent-Type: ${type}\r\nContent-Length: ${bytes.length}\r\nConnection: close\r\n\r\n${body}`);
}
