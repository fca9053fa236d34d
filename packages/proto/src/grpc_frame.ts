/** A gRPC message as it goes on the wire: flag byte 0 (not compressed), a 4-byte big-endian length, the bytes. */
export function grpcFrame(body: Uint8Array): Buffer {
  const frame = Buffer.allocUnsafe(5 + body.length);
  frame[0] = 0;
  frame.writeUInt32BE(body.length, 1);
  frame.set(body, 5);
  return frame;
}
