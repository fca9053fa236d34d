import http from 'node:http';
import https from 'node:https';
import { USER_AGENT } from './apiserver_http.js';

/**
 * One HTTP watch, as kubectl opens it: `GET …?watch=true&resourceVersion=N` on a connection of its
 * own, answered with a stream of JSON lines `{"type":"ADDED","object":{…}}`. Each line is handed
 * to `onEvent` with its arrival time. Parsing is cheap on purpose (the type from the line's start,
 * the object's name by a pattern) so that the load generator, which shares the machine, spends
 * little on 10,000+ events a second; a line in any other shape is parsed as JSON.
 */

export interface WatchEvent {
  readonly type: string;
  readonly name: string | undefined;
  /** For ERROR events: the Status message. */
  readonly message?: string;
}

export interface WatchHandlers {
  readonly onEvent: (event: WatchEvent, atMs: number) => void;
  /** The stream ended or failed before `close()` was called. */
  readonly onEnd: (reason: string) => void;
}

export interface OpenWatch {
  /** Resolves when the server answered 200 (headers received); rejects on any other answer. */
  readonly opened: Promise<void>;
  close(): void;
}

const TYPE_PREFIX = '{"type":"';
const NAME_PATTERN = /"metadata":\{[^{}]*?"name":"([^"]*)"/;

/** The type and object name of one watch line. */
export function parseWatchLine(line: string): WatchEvent {
  if (line.startsWith(TYPE_PREFIX)) {
    const end = line.indexOf('"', TYPE_PREFIX.length);
    const type = line.slice(TYPE_PREFIX.length, end);
    if (end > 0 && type !== 'ERROR') return { type, name: NAME_PATTERN.exec(line)?.[1] };
  }
  const event = JSON.parse(line) as { type?: unknown; object?: { metadata?: { name?: unknown }; message?: unknown } };
  if (typeof event.type !== 'string') throw new Error(`watch line without a type: ${line.slice(0, 120)}`);
  const name = event.object?.metadata?.name;
  const message = event.object?.message;
  return { type: event.type, name: typeof name === 'string' ? name : undefined, ...(typeof message === 'string' ? { message } : {}) };
}

/** Splits a stream of text chunks into lines (a line may span chunks). */
export class LineSplitter {
  private rest = '';

  push(chunk: string, onLine: (line: string) => void): void {
    let text = this.rest + chunk;
    for (let newline = text.indexOf('\n'); newline >= 0; newline = text.indexOf('\n')) {
      const line = text.slice(0, newline);
      text = text.slice(newline + 1);
      if (line.trim() !== '') onLine(line);
    }
    this.rest = text;
  }

  get pending(): string {
    return this.rest;
  }
}

export function openWatch(server: string, path: string, handlers: WatchHandlers, now: () => number = () => performance.now()): OpenWatch {
  const url = new URL(path, server);
  const send = url.protocol === 'https:' ? https.get : http.get;
  let closing = false;
  let isOpen = false;
  let request: http.ClientRequest | undefined;
  const opened = new Promise<void>((resolve, reject) => {
    request = send(url, { agent: false, headers: { Accept: 'application/json', 'User-Agent': USER_AGENT }, rejectUnauthorized: false }, (response) => {
      response.setEncoding('utf8');
      if (response.statusCode !== 200) {
        let body = '';
        response.on('data', (chunk: string) => (body += chunk));
        response.on('end', () => reject(new Error(`watch answered HTTP ${response.statusCode ?? '?'}: ${body.slice(0, 200)}`)));
        return;
      }
      isOpen = true;
      resolve();
      const lines = new LineSplitter();
      response.on('data', (chunk: string) => {
        const atMs = now();
        lines.push(chunk, (line) => {
          try {
            handlers.onEvent(parseWatchLine(line), atMs);
          } catch (error) {
            handlers.onEvent({ type: 'UNPARSABLE', name: undefined, message: error instanceof Error ? error.message : String(error) }, atMs);
          }
        });
      });
      response.on('end', () => {
        if (!closing) handlers.onEnd('the server ended the watch');
      });
      response.on('error', (error) => {
        if (!closing) handlers.onEnd(`watch stream failed: ${error.message}`);
      });
    });
    request.on('error', (error) => {
      reject(error);
      if (isOpen && !closing) handlers.onEnd(`watch connection failed: ${error.message}`);
    });
  });
  opened.catch(() => undefined); // the caller awaits it; never an unhandled rejection
  return {
    opened,
    close: () => {
      closing = true;
      request?.destroy();
    },
  };
}
