import { crc32c } from '../crc32c.js';
import { invariant } from '../errors.js';

/**
 * How one record sits in a segment file:
 *
 *   u32 LE  bodyLength   bytes in body (≥ 1: the type byte)
 *   u32 LE  crc          CRC-32C of body
 *   body    u8 type, then the type's payload
 *   padding zeroes up to the next multiple of 8
 *
 * Alignment keeps every record start on an 8-byte boundary, so recovery only has to probe those
 * offsets when it asks "does any valid record follow this damaged one?".
 */
export const FRAME_HEADER_BYTES = 8;
export const FRAME_ALIGN_BYTES = 8;
/** No record is this large; a length field beyond it is damage, not a big entry. */
export const MAX_RECORD_BODY_BYTES = 256 * 1024 * 1024;

export function alignedFrameBytes(bodyBytes: number): number {
  return FRAME_HEADER_BYTES + Math.ceil(bodyBytes / FRAME_ALIGN_BYTES) * FRAME_ALIGN_BYTES;
}

export function encodeFrame(body: Buffer): Buffer {
  invariant(body.length >= 1, 'a record body holds at least its type byte');
  invariant(body.length <= MAX_RECORD_BODY_BYTES, () => `record body of ${body.length} bytes is over the limit`);
  const frame = Buffer.alloc(alignedFrameBytes(body.length));
  frame.writeUInt32LE(body.length, 0);
  frame.writeUInt32LE(crc32c(body), 4);
  body.copy(frame, FRAME_HEADER_BYTES);
  return frame;
}

export type FrameRead =
  | { readonly ok: true; readonly body: Buffer; readonly next: number }
  | { readonly ok: false; readonly reason: string };

/** Reads the frame at `offset`, which must be below `bytes.length`. Never throws on bad input. */
export function readFrame(bytes: Buffer, offset: number): FrameRead {
  invariant(offset % FRAME_ALIGN_BYTES === 0, () => `frame offset ${offset} is not aligned`);
  invariant(offset < bytes.length, () => `frame offset ${offset} at or past the end (${bytes.length})`);
  const remaining = bytes.length - offset;
  if (remaining < FRAME_HEADER_BYTES) return { ok: false, reason: `short record header (${remaining} bytes)` };
  const bodyLength = bytes.readUInt32LE(offset);
  if (bodyLength === 0) return { ok: false, reason: 'zero record length' };
  if (bodyLength > MAX_RECORD_BODY_BYTES) return { ok: false, reason: `record length ${bodyLength} over the limit` };
  const frameBytes = alignedFrameBytes(bodyLength);
  if (frameBytes > remaining) {
    return { ok: false, reason: `record of ${frameBytes} bytes runs past the end of the file (${remaining} left)` };
  }
  const body = bytes.subarray(offset + FRAME_HEADER_BYTES, offset + FRAME_HEADER_BYTES + bodyLength);
  const stored = bytes.readUInt32LE(offset + 4);
  const computed = crc32c(body);
  if (stored !== computed) {
    return { ok: false, reason: `CRC mismatch (stored ${hex(stored)}, computed ${hex(computed)})` };
  }
  return { ok: true, body, next: offset + frameBytes };
}

function hex(value: number): string {
  return `0x${value.toString(16).padStart(8, '0')}`;
}
