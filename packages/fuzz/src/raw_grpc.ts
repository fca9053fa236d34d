import * as grpc from '@grpc/grpc-js';

/** The status a gRPC call ended with, and how many messages came back before it. */
export interface RawOutcome {
  readonly code: grpc.status;
  readonly details: string;
  readonly responses: number;
}

const asIs = (bytes: Buffer): Buffer => bytes;

/** A stream opened with openBidi. */
export interface OpenStream {
  /** Every response so far, as bytes. */
  readonly responses: readonly Buffer[];
  /** Resolves with the status the stream ends with. */
  readonly ended: Promise<RawOutcome>;
  /** The status, once it ended. */
  status(): RawOutcome | undefined;
  cancel(): void;
}

/**
 * A gRPC client that sends payloads as given, bytes and all: serialization is the identity, so a
 * truncated or garbled message reaches the server's decoder instead of being refused by ours.
 */
export class RawGrpcClient {
  private readonly client: grpc.Client;

  /** `address` as host:port, or a member's client URL (http://host:port). */
  constructor(address: string) {
    this.client = new grpc.Client(address.replace(/^https?:\/\//, ''), grpc.credentials.createInsecure());
  }

  /** A unary call to `path` ('/etcdserverpb.KV/Range'); ends with a status within `deadlineMs`. */
  unary(path: string, payload: Buffer, deadlineMs: number): Promise<RawOutcome> {
    return new Promise((resolve) => {
      this.client.makeUnaryRequest(path, asIs, asIs, payload, new grpc.Metadata(), { deadline: Date.now() + deadlineMs }, (error) => {
        if (error === null) resolve({ code: grpc.status.OK, details: '', responses: 1 });
        else resolve({ code: error.code, details: error.details, responses: 0 });
      });
    });
  }

  /** A unary call that must succeed: its response bytes. */
  unaryResponse(path: string, payload: Buffer, deadlineMs: number): Promise<Buffer> {
    return new Promise((resolve, reject) => {
      this.client.makeUnaryRequest(path, asIs, asIs, payload, new grpc.Metadata(), { deadline: Date.now() + deadlineMs }, (error, response) => {
        if (error !== null) reject(new Error(`${path}: ${grpc.status[error.code]} ${error.details}`));
        else if (response === undefined) reject(new Error(`${path}: no response`));
        else resolve(response);
      });
    });
  }

  /**
   * A bidirectional stream: writes every payload, half-closes, and waits for its status. A stream
   * the server keeps open (a watch) ends at `deadlineMs` with DEADLINE_EXCEEDED.
   */
  bidi(path: string, payloads: readonly Buffer[], deadlineMs: number): Promise<RawOutcome> {
    return new Promise((resolve) => {
      let responses = 0;
      const call = this.client.makeBidiStreamRequest(path, asIs, asIs, new grpc.Metadata(), { deadline: Date.now() + deadlineMs });
      call.on('data', () => void responses++);
      // The status event always follows; 'error' is listened to so an error status is not thrown.
      call.on('error', () => undefined);
      call.on('status', (status: grpc.StatusObject) => resolve({ code: status.code, details: status.details, responses }));
      for (const payload of payloads) call.write(payload);
      call.end();
    });
  }

  /**
   * A bidirectional stream left open: writes every payload, half-closes when asked, and collects
   * responses until it ends (with `ended`) or the caller cancels it.
   */
  openBidi(path: string, payloads: readonly Buffer[], options: { readonly halfClose: boolean }): OpenStream {
    const responses: Buffer[] = [];
    let status: RawOutcome | undefined;
    const call = this.client.makeBidiStreamRequest(path, asIs, asIs, new grpc.Metadata());
    call.on('data', (response: Buffer) => void responses.push(response));
    call.on('error', () => undefined); // the status event follows
    const ended = new Promise<RawOutcome>((resolve) =>
      call.on('status', (ending: grpc.StatusObject) => {
        status = { code: ending.code, details: ending.details, responses: responses.length };
        resolve(status);
      }),
    );
    for (const payload of payloads) call.write(payload);
    if (options.halfClose) call.end();
    return { responses, ended, status: () => status, cancel: () => call.cancel() };
  }

  close(): void {
    this.client.close();
  }
}

export { grpc };
