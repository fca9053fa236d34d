// The child process of crash.test.ts: opens the storage in argv[2], then keeps `concurrency` saves in
// flight until it is killed, telling the parent (over the IPC channel) about every save that resolved.
// A save's `acked` message is sent only after its promise resolved, so anything the parent heard of
// must survive the SIGKILL.
import { pino } from 'pino';
import { RaftStorage } from '../index.js';
import { entry } from './fixtures.js';

const dir = process.argv[2];
const concurrency = Number(process.argv[3] ?? '8');
if (dir === undefined || process.send === undefined) throw new Error('usage: fork(crash_writer.js, [dir, concurrency])');
const send = process.send.bind(process);

const storage = await RaftStorage.open(dir, {
  segmentSizeBytes: 16 * 1024,
  logger: pino({ level: 'warn' }, pino.destination(2)),
});
const recovered = storage.load();
let next = (recovered.entries.at(-1)?.index ?? recovered.snapshot?.meta.index ?? 0) + 1;
send({ started: next });

async function writeForever(): Promise<never> {
  for (;;) {
    const index = next;
    next += 1;
    await storage.save({ entries: [entry(index, 1, 200)], hardState: { term: 1, vote: 1, commit: index } });
    send({ acked: index });
  }
}

await Promise.all(Array.from({ length: concurrency }, writeForever));
