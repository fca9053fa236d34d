import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { join } from 'node:path';
import { ApiServer, NatsNodeLogs, NatsNodeStreams, PodStreamHandler, listenGrpcApi, type GrpcApiListener } from '@k8ts/apiserver';
import { listen, numberFlag, onShutdown, parseFlagsOrExit, portFlag, runMain, splitList } from '@k8ts/service';
import { Command, Option } from 'commander';
import { pino } from 'pino';

interface Flags {
  etcdServers: string;
  bindAddress: string;
  securePort: number;
  port: number;
  tlsCertFile?: string;
  tlsPrivateKeyFile?: string;
  certDir: string;
  logLevel: string;
  natsUrl?: string;
  grpcPort: number;
  defaultNotReadyTolerationSeconds: number;
  defaultUnreachableTolerationSeconds: number;
}

function command(): Command {
  return new Command('k8ts-apiserver')
    .description('The k8ts API server: Kubernetes REST over an etcd v3 store (k8ts-store or etcd). Flags follow kube-apiserver.')
    .addOption(new Option('--etcd-servers <list>', 'etcd v3 endpoints, comma-separated').env('K8TS_ETCD_SERVERS').makeOptionMandatory())
    .addOption(new Option('--bind-address <ip>', 'address to serve on').default('0.0.0.0').env('K8TS_BIND_ADDRESS'))
    .addOption(new Option('--secure-port <port>', 'HTTPS port (0 turns it off)').default(6443).argParser(portFlag('--secure-port')).env('K8TS_SECURE_PORT'))
    .addOption(new Option('--port <port>', 'plain HTTP port for local use (0 turns it off)').default(0).argParser(portFlag('--port')).env('K8TS_PORT'))
    .addOption(new Option('--grpc-port <port>', "the components' gRPC API (0 turns it off)").default(0).argParser(portFlag('--grpc-port')).env('K8TS_GRPC_PORT'))
    .addOption(new Option('--tls-cert-file <file>', 'serving certificate (PEM); generated when not given'))
    .addOption(new Option('--tls-private-key-file <file>', 'key of --tls-cert-file (PEM)'))
    .addOption(new Option('--cert-dir <dir>', 'where a generated certificate is kept').default('apiserver.local.config/certificates'))
    .addOption(new Option('--nats-url <urls>', 'NATS servers the node agents listen on (pod logs, exec, attach and port-forward go through them)').env('K8TS_NATS_URL'))
    .addOption(
      new Option('--default-not-ready-toleration-seconds <seconds>', 'tolerationSeconds of the not-ready:NoExecute toleration DefaultTolerationSeconds gives every pod that has none')
        .default(300)
        .argParser(numberFlag('--default-not-ready-toleration-seconds', { integer: true }))
        .env('K8TS_DEFAULT_NOT_READY_TOLERATION_SECONDS'),
    )
    .addOption(
      new Option('--default-unreachable-toleration-seconds <seconds>', 'tolerationSeconds of the unreachable:NoExecute toleration DefaultTolerationSeconds gives every pod that has none')
        .default(300)
        .argParser(numberFlag('--default-unreachable-toleration-seconds', { integer: true }))
        .env('K8TS_DEFAULT_UNREACHABLE_TOLERATION_SECONDS'),
    )
    .addOption(new Option('--log-level <level>', 'pino log level').default('info').env('K8TS_LOG_LEVEL'));
}

/** The serving certificate: the given one, or one generated once and kept in --cert-dir (as kube-apiserver does). */
async function servingCertificate(flags: Flags): Promise<{ cert: string; key: string }> {
  if (flags.tlsCertFile && flags.tlsPrivateKeyFile) {
    return { cert: await readFile(flags.tlsCertFile, 'utf8'), key: await readFile(flags.tlsPrivateKeyFile, 'utf8') };
  }
  const certPath = join(flags.certDir, 'apiserver.crt');
  const keyPath = join(flags.certDir, 'apiserver.key');
  try {
    return { cert: await readFile(certPath, 'utf8'), key: await readFile(keyPath, 'utf8') };
  } catch {
    // Loaded only here: selfsigned and its X.509/ASN.1 stack are about a third of the process's
    // module loading, and a cluster that serves plain HTTP (k8ts up, compose) never needs them.
    const { generate } = await import('selfsigned');
    const pems = await generate([{ name: 'commonName', value: 'k8ts-apiserver' }], {
      keyType: 'ec',
      algorithm: 'sha256',
      notAfterDate: new Date(Date.now() + 365 * 24 * 3600 * 1000),
      extensions: [{ name: 'subjectAltName', altNames: [{ type: 2, value: 'localhost' }, { type: 7, ip: '127.0.0.1' }] }],
    });
    await mkdir(flags.certDir, { recursive: true });
    await writeFile(keyPath, pems.private, { mode: 0o600 });
    await writeFile(certPath, pems.cert);
    return { cert: pems.cert, key: pems.private };
  }
}

function serve(server: Server, port: number, host: string): Promise<void> {
  // kube-apiserver keeps idle connections 90 s, as Go's (and client-go's) transports expect;
  // Node's default of 5 s would close them under clients about to reuse them.
  server.keepAliveTimeout = 90_000;
  server.headersTimeout = 95_000;
  return listen(server, port, host);
}

async function main(): Promise<void> {
  const flags = parseFlagsOrExit<Flags>(command(), process.argv.slice(2));
  const logger = pino({ level: flags.logLevel, base: { component: 'apiserver' } });
  const etcdServers = splitList(flags.etcdServers);
  const advertised = `${flags.bindAddress === '0.0.0.0' ? '127.0.0.1' : flags.bindAddress}:${flags.securePort || flags.port}`;
  const podLogs = flags.natsUrl ? await NatsNodeLogs.connect(flags.natsUrl) : undefined;
  const api = new ApiServer({
    etcdServers,
    serverAddress: advertised,
    logger,
    defaultTolerationSeconds: { notReadySeconds: flags.defaultNotReadyTolerationSeconds, unreachableSeconds: flags.defaultUnreachableTolerationSeconds },
    ...(podLogs ? { podLogs } : {}),
  });
  await api.start();
  // pods/exec, attach and portforward are HTTP upgrades: the 'upgrade' event, not the request handler.
  const podStreams = flags.natsUrl ? await NatsNodeStreams.connect(flags.natsUrl) : undefined;
  const streams = new PodStreamHandler({ service: api.service, logger, fallback: api.rest.handle, ...(podStreams ? { streams: podStreams } : {}) });
  const servers: Server[] = [];
  if (flags.port > 0) {
    const http = createHttpServer(api.rest.handle);
    http.on('upgrade', streams.handleUpgrade);
    await serve(http, flags.port, flags.bindAddress);
    servers.push(http);
    logger.info({ event: 'serving', url: `http://${flags.bindAddress}:${flags.port}` }, 'serving plain HTTP');
  }
  let grpcApi: GrpcApiListener | undefined;
  if (flags.grpcPort > 0) {
    grpcApi = await listenGrpcApi(api, { host: flags.bindAddress, port: flags.grpcPort });
    logger.info({ event: 'serving', address: grpcApi.address }, "serving the components' gRPC API");
  }
  if (flags.securePort > 0) {
    const https = createHttpsServer(await servingCertificate(flags), api.rest.handle);
    https.on('upgrade', streams.handleUpgrade);
    await serve(https, flags.securePort, flags.bindAddress);
    servers.push(https);
    logger.info({ event: 'serving', url: `https://${flags.bindAddress}:${flags.securePort}` }, 'serving HTTPS');
  }
  onShutdown(logger, async () => {
    for (const server of servers) {
      server.close();
      server.closeAllConnections();
    }
    // Watch streams end before the caches they read from stop.
    await grpcApi?.shutdown();
    api.stop();
    await podLogs?.close();
    await podStreams?.close();
  });
}

runMain('k8ts-apiserver', main);
