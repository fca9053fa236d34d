// k8ts/http-echo: answers every request with its pod's name, namespace and IP (JSON), on the port of
// `-listen=:PORT` (or `--port PORT`, or $PORT; default 8080). `-text=...` adds a text to the answer.
// Health for probes: GET /healthz and /readyz answer 200 "ok" until told otherwise: POST /fail-healthz
// (or /fail-readyz) makes them answer 500, POST /heal-healthz (/heal-readyz) heals them; the files
// /tmp/k8ts-fail-healthz and /tmp/k8ts-fail-readyz, or the env HEALTHZ_FAIL=1, fail them too.
import { existsSync } from 'node:fs';
import { createServer } from 'node:http';
import { hostname } from 'node:os';

let port = Number(process.env.PORT ?? 8080);
let text = process.env.ECHO_TEXT ?? '';
const args = process.argv.slice(2);
for (let i = 0; i < args.length; i++) {
  const arg = args[i];
  const value = arg.includes('=') ? arg.slice(arg.indexOf('=') + 1) : args[i + 1];
  const consumes = !arg.includes('=');
  if (/^--?listen(=|$)/.test(arg)) port = Number(value.slice(value.lastIndexOf(':') + 1));
  else if (/^--?port(=|$)/.test(arg)) port = Number(value);
  else if (/^--?text(=|$)/.test(arg)) text = value;
  else continue;
  if (consumes) i++;
}
if (!Number.isInteger(port) || port <= 0 || port > 65535) {
  console.error(`http-echo: invalid port in ${JSON.stringify(args)}`);
  process.exit(2);
}

const failing = { healthz: process.env.HEALTHZ_FAIL === '1', readyz: false };
const identity = () => ({
  pod: process.env.POD_NAME ?? hostname(),
  namespace: process.env.POD_NAMESPACE ?? '',
  ip: process.env.POD_IP ?? '',
  hostname: hostname(),
});

const server = createServer((request, response) => {
  const url = new URL(request.url ?? '/', 'http://localhost');
  const path = url.pathname;
  const health = /^\/(healthz|readyz)$/.exec(path);
  if (health) {
    const which = health[1];
    const bad = failing[which] || existsSync(`/tmp/k8ts-fail-${which}`);
    response.writeHead(bad ? 500 : 200, { 'content-type': 'text/plain' });
    response.end(bad ? 'failing\n' : 'ok\n');
    return;
  }
  const toggle = /^\/(fail|heal)-(healthz|readyz)$/.exec(path);
  if (toggle && request.method === 'POST') {
    failing[toggle[2]] = toggle[1] === 'fail';
    console.log(`${toggle[2]} now ${failing[toggle[2]] ? 'failing' : 'healthy'}`);
    response.writeHead(200, { 'content-type': 'text/plain' });
    response.end(`${toggle[2]} ${failing[toggle[2]] ? 'failing' : 'healthy'}\n`);
    return;
  }
  response.writeHead(200, { 'content-type': 'application/json' });
  response.end(`${JSON.stringify({ ...identity(), ...(text ? { text } : {}), method: request.method, path })}\n`);
});

server.listen(port, () => console.log(`http-echo listening on :${port} as ${JSON.stringify(identity())}`));
const stop = () => server.close(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
