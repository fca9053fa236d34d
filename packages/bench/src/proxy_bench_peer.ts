/**
 * The far ends of `k8ts bench proxy`, each run as a process of its own (forked by proxy_bench.ts) so
 * that the load generator, the proxy and the backend do not share an event loop:
 * - `backend`: an echo server (every byte back) and a sink (reads everything; at the client's FIN
 *   answers the byte count and ends).
 * - `proxy <echoPort> <sinkPort>`: one @k8ts/l4proxy TcpProxy in front of each.
 * Each tells its parent its ports over IPC ({ echoPort, sinkPort }) and exits when the parent goes.
 */
import { createServer, type Server } from 'node:net';
import { TcpProxy } from '@k8ts/l4proxy';

export interface PeerPorts {
  readonly echoPort: number;
  readonly sinkPort: number;
}

function listen(server: Server): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      resolve(typeof address === 'object' && address !== null ? address.port : 0);
    });
  });
}

async function startBackend(): Promise<PeerPorts> {
  const echo = createServer({ allowHalfOpen: true }, (socket) => {
    socket.setNoDelay(true);
    socket.on('error', () => socket.destroy());
    socket.pipe(socket);
  });
  const sink = createServer({ allowHalfOpen: true }, (socket) => {
    let bytes = 0;
    socket.on('error', () => socket.destroy());
    socket.on('data', (chunk: Buffer) => (bytes += chunk.length));
    socket.on('end', () => socket.end(String(bytes)));
  });
  return { echoPort: await listen(echo), sinkPort: await listen(sink) };
}

async function startProxies(echoPort: number, sinkPort: number): Promise<PeerPorts> {
  const proxy = (port: number): TcpProxy =>
    new TcpProxy({ host: '127.0.0.1', port: 0, pickBackend: () => ({ host: '127.0.0.1', port }), maxConnections: 10_000, connectTimeoutMs: 5000 });
  const [echo, sink] = await Promise.all([proxy(echoPort).listen(), proxy(sinkPort).listen()]);
  return { echoPort: echo.port, sinkPort: sink.port };
}

async function main(): Promise<void> {
  const [role, echoPort, sinkPort] = process.argv.slice(2);
  const ports = role === 'backend' ? await startBackend() : role === 'proxy' ? await startProxies(Number(echoPort), Number(sinkPort)) : undefined;
  if (ports === undefined) throw new Error(`usage: proxy_bench_peer backend | proxy <echoPort> <sinkPort> (got ${role})`);
  process.on('disconnect', () => process.exit(0));
  process.send?.(ports);
}

main().catch((error: unknown) => {
  process.stderr.write(`proxy bench peer: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
