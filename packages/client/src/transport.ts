import type * as grpc from '@grpc/grpc-js';
import type { ApiWatchEvent } from '@k8ts/proto';

/** What the resource clients need from the connection layer. */
export interface ApiTransport {
  readonly fieldManager: string | undefined;
  unary<Response>(method: string, request: object): Promise<Response>;
  openStream(method: string, request: object): OpenedStream;
}

export interface OpenedStream {
  readonly stream: grpc.ClientReadableStream<ApiWatchEvent>;
  /** Report a transport failure of this stream, so later calls go to another address. */
  failed(error: unknown): void;
}
