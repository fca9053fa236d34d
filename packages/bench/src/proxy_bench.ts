/**
 * `k8ts bench proxy`: what the L4 proxy costs. A backend process (echo and sink) and a proxy process
 * (a TcpProxy in front of each) are forked; this process is the load generator and measures the same
 * three things straight to the backend and through the proxy, run after run, alternating the order:
 * connections/s (connect, one small request/response, close), the latency of a request/response on a
 * kept connection (p50/p99), and one-way throughput into the sink.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { connect, type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import type { Logger } from 'pino';
import { captureMachine } from './conditions.js';
import type { PeerPorts } from './proxy_bench_peer.js';
import { summarize, type PathFigures, type ProxyBenchOptions, type ProxyBenchReport, type ProxyRun } from './proxy_report.js';
import { summarizeLatencies } from './stats.js';

// src/ and dist/ both sit beside dist/: the peer runs compiled, also when this file runs under vitest.
const PEER_SCRIPT = new URL('../dist/proxy_bench_peer.js', import.meta.url).pathname;
const PEER_START_TIMEOUT_MS = 15_000;

export function checkProxyOptions(options: ProxyBenchOptions): void {
  const positive: [keyof ProxyBenchOptions, string][] = [
    ['runs', '--runs'],
    ['durationSeconds', '--duration'],
    ['concurrency', '--concurrency'],
    ['requests', '--requests'],
    ['requestBytes', '--request-bytes'],
    ['megabytes', '--megabytes'],
  ];
  for (const [field, flag] of positive) {
    if (!(options[field] > 0)) throw new Error(`${flag} ${options[field]}: must be more than 0`);
  }
}

export async function runProxyBench(options: ProxyBenchOptions, logger: Logger): Promise<ProxyBenchReport> {
  checkProxyOptions(options);
  const conditions = {
    ...captureMachine(new Date(), 'this Node.js process (the clients)'),
    options,
    processes: 'the load generator, the proxy and the backend: three Node.js processes on this machine, sharing its cores, over 127.0.0.1',
  };
  const children: ChildProcess[] = [];
  try {
    const backend = await startPeer(['backend'], children);
    const proxy = await startPeer(['proxy', String(backend.echoPort), String(backend.sinkPort)], children);
    logger.info({ backend, proxy }, 'proxy bench: backend and proxy up');
    const runs: ProxyRun[] = [];
    for (let run = 1; run <= options.runs; run++) {
      const proxiedFirst = run % 2 === 0;
      const first = await measurePath(proxiedFirst ? proxy : backend, options);
      const second = await measurePath(proxiedFirst ? backend : proxy, options);
      const figures = { run, direct: proxiedFirst ? second : first, proxied: proxiedFirst ? first : second };
      logger.info(figures, 'proxy bench: run done');
      runs.push(figures);
    }
    const problems = runs.flatMap((run) =>
      (['direct', 'proxied'] as const).flatMap((path) => (run[path].connectionErrors > 0 ? [`run ${run.run}, ${path}: ${run[path].connectionErrors} connections failed`] : [])),
    );
    return { conditions, runs, summary: summarize(runs), problems };
  } finally {
    for (const child of children) child.kill('SIGTERM');
  }
}

function startPeer(args: string[], children: ChildProcess[]): Promise<PeerPorts> {
  const child = fork(PEER_SCRIPT, args, { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
  children.push(child);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`proxy bench peer ${args[0]} did not start within ${PEER_START_TIMEOUT_MS} ms`)), PEER_START_TIMEOUT_MS);
    child.once('message', (ports) => {
      clearTimeout(timer);
      resolve(ports as PeerPorts);
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`proxy bench peer ${args[0]} exited (${code}) before it started (is @k8ts/bench built? ${PEER_SCRIPT})`));
    });
  });
}

async function measurePath(ports: PeerPorts, options: ProxyBenchOptions): Promise<PathFigures> {
  const connections = await connectionsPerSecond(ports.echoPort, options);
  const latency = await requestLatency(ports.echoPort, options);
  const throughput = await throughputMiBPerSecond(ports.sinkPort, options.megabytes);
  return { ...connections, latencyP50Ms: latency.p50Ms, latencyP99Ms: latency.p99Ms, throughputMiBPerSecond: throughput };
}

function openSocket(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port, noDelay: true });
    socket.once('connect', () => {
      socket.off('error', reject);
      resolve(socket);
    });
    socket.once('error', reject);
  });
}

/** Writes `request` and resolves when as many bytes came back. */
function roundTrip(socket: Socket, request: Buffer): Promise<void> {
  return new Promise((resolve, reject) => {
    let received = 0;
    const onData = (chunk: Buffer): void => {
      received += chunk.length;
      if (received < request.length) return;
      done();
      resolve();
    };
    const onFailure = (error?: Error): void => {
      done();
      reject(error ?? new Error('connection ended mid-request'));
    };
    const done = (): void => {
      socket.off('data', onData);
      socket.off('error', onFailure);
      socket.off('end', onFailure);
    };
    socket.on('data', onData);
    socket.once('error', onFailure);
    socket.once('end', onFailure);
    socket.write(request);
  });
}

async function connectionsPerSecond(port: number, options: ProxyBenchOptions): Promise<{ connectionsPerSecond: number; connectionErrors: number }> {
  const request = Buffer.alloc(options.requestBytes, 'c');
  const startMs = performance.now();
  const deadlineMs = startMs + options.durationSeconds * 1000;
  let completed = 0;
  let errors = 0;
  const worker = async (): Promise<void> => {
    while (performance.now() < deadlineMs) {
      let socket: Socket | undefined;
      try {
        socket = await openSocket(port);
        await roundTrip(socket, request);
        const closed = new Promise((resolve) => socket?.once('close', resolve));
        socket.end();
        await closed;
        completed += 1;
      } catch {
        errors += 1;
        socket?.destroy();
      }
    }
  };
  await Promise.all(Array.from({ length: options.concurrency }, worker));
  return { connectionsPerSecond: (completed * 1000) / (performance.now() - startMs), connectionErrors: errors };
}

async function requestLatency(port: number, options: ProxyBenchOptions): Promise<{ p50Ms: number; p99Ms: number }> {
  const request = Buffer.alloc(options.requestBytes, 'l');
  const socket = await openSocket(port);
  try {
    const warmUp = Math.min(100, options.requests);
    for (let i = 0; i < warmUp; i++) await roundTrip(socket, request);
    const samples = new Float64Array(options.requests);
    for (let i = 0; i < options.requests; i++) {
      const sentMs = performance.now();
      await roundTrip(socket, request);
      samples[i] = performance.now() - sentMs;
    }
    const summary = summarizeLatencies(samples);
    return { p50Ms: summary.p50Ms, p99Ms: summary.p99Ms };
  } finally {
    socket.destroy();
  }
}

/** Sends `megabytes` MiB (respecting backpressure) and waits for the sink's byte count. */
async function throughputMiBPerSecond(port: number, megabytes: number): Promise<number> {
  const chunk = Buffer.alloc(64 * 1024, 't');
  const totalBytes = megabytes * 2 ** 20;
  const socket = await openSocket(port);
  const startMs = performance.now();
  let failure: Error | undefined;
  socket.on('error', (error) => (failure = error));
  // Resolves with the sink's answer once the connection is over (whatever the outcome).
  const answer = new Promise<string>((resolve) => {
    let text = '';
    socket.on('data', (data: Buffer) => (text += data.toString()));
    socket.once('close', () => resolve(text));
  });
  for (let sent = 0; sent < totalBytes && failure === undefined && !socket.destroyed; sent += chunk.length) {
    const piece = totalBytes - sent < chunk.length ? chunk.subarray(0, totalBytes - sent) : chunk;
    if (!socket.write(piece)) await Promise.race([new Promise((resolve) => socket.once('drain', resolve)), answer]);
  }
  socket.end();
  const counted = Number(await answer);
  const elapsedMs = performance.now() - startMs;
  if (failure !== undefined) throw failure;
  if (counted !== totalBytes) throw new Error(`the sink counted ${counted} of ${totalBytes} bytes`);
  return totalBytes / 2 ** 20 / (elapsedMs / 1000);
}
