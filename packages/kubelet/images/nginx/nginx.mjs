// nginx stand-in: a static web server on port 80 (or $NGINX_PORT) serving the folder a volume puts
// at /usr/share/nginx/html (K8TS_MOUNT_USR_SHARE_NGINX_HTML tells where the container sees it), or
// nginx's default welcome page when no volume is mounted there. Logs requests as nginx's access log.
import { createReadStream, statSync } from 'node:fs';
import { createServer } from 'node:http';
import { extname, join, normalize } from 'node:path';

const port = Number(process.env.NGINX_PORT ?? 80);
const root = process.env.K8TS_MOUNT_USR_SHARE_NGINX_HTML;
const types = { '.html': 'text/html', '.htm': 'text/html', '.css': 'text/css', '.js': 'application/javascript', '.json': 'application/json', '.txt': 'text/plain', '.png': 'image/png', '.svg': 'image/svg+xml' };
const WELCOME = `<!DOCTYPE html>
<html>
<head>
<title>Welcome to nginx!</title>
</head>
<body>
<h1>Welcome to nginx!</h1>
<p>If you see this page, the nginx web server is successfully installed and
working. Further configuration is required.</p>
</body>
</html>
`;

function page(path) {
  if (root === undefined) return path === '/' || path === '/index.html' ? { body: WELCOME } : undefined;
  let file = join(root, normalize(path).replace(/^(\.\.[/\\])+/, ''));
  try {
    if (statSync(file).isDirectory()) file = join(file, 'index.html');
    if (statSync(file).isFile()) return { file };
  } catch {
    return undefined;
  }
  return undefined;
}

const server = createServer((request, response) => {
  const path = decodeURIComponent(new URL(request.url ?? '/', 'http://localhost').pathname);
  const found = page(path);
  const status = found ? 200 : 404;
  console.log(`${request.socket.remoteAddress} - - [${new Date().toUTCString()}] "${request.method} ${request.url} HTTP/${request.httpVersion}" ${status} -`);
  if (!found) {
    response.writeHead(404, { 'content-type': 'text/html', server: 'nginx' });
    response.end('<html>\r\n<head><title>404 Not Found</title></head>\r\n<body>\r\n<center><h1>404 Not Found</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n');
    return;
  }
  const type = found.file ? (types[extname(found.file)] ?? 'application/octet-stream') : 'text/html';
  response.writeHead(200, { 'content-type': type, server: 'nginx' });
  if (found.body !== undefined) response.end(found.body);
  else createReadStream(found.file).pipe(response);
});
server.listen(port, () => console.log(`nginx stand-in serving ${root ?? 'the default page'} on :${port}`));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
process.on('SIGQUIT', () => server.close(() => process.exit(0)));
