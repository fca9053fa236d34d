#!/usr/bin/env node
// k8ts-healthcheck URL: exits 0 when a GET of URL answers 2xx within 3 s, else 1 (a container
// health check; the image has no curl or wget).
const url = process.argv[2];
if (url === undefined || url === '--help') {
  console.log('usage: k8ts-healthcheck URL');
  process.exit(url === undefined ? 2 : 0);
}
try {
  const response = await fetch(url, { signal: AbortSignal.timeout(3000) });
  if (!response.ok) console.error(`${url}: ${response.status}`);
  process.exit(response.ok ? 0 : 1);
} catch (error) {
  console.error(`${url}: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
}
