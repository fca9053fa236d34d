import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ContainerStatus, PodStatus } from 'kubernetes-types/core/v1.js';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { chooseLogFile } from './container_log_file.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'container-log-file-'));
  mkdirSync(join(dir, 'c'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const statusWith = (container: Partial<ContainerStatus>): PodStatus => ({
  containerStatuses: [{ name: 'c', image: 'busybox', imageID: '', ready: false, restartCount: 0, ...container }],
});
const choose = (status: PodStatus | undefined, previous = false, knowsStatus = true) =>
  chooseLogFile({ pod: 'p', container: 'c', previous, logDirectory: dir, status, knowsStatus });
const terminated = { terminated: { exitCode: 1, containerID: 'k8ts://x' } };

describe('chooseLogFile', () => {
  test('a running container reads its restart count file; --previous the one before', () => {
    const status = statusWith({ restartCount: 2, state: { running: {} }, lastState: terminated });
    expect(choose(status)).toMatchObject({ path: join(dir, 'c', '2.log'), running: true, restartCount: 2 });
    expect(choose(status, true)).toMatchObject({ path: join(dir, 'c', '1.log'), running: false });
  });

  test('waiting to restart: the last terminated container answers both', () => {
    writeFileSync(join(dir, 'c', '0.log'), '');
    writeFileSync(join(dir, 'c', '1.log'), '');
    const status = statusWith({ restartCount: 1, state: { waiting: { reason: 'CrashLoopBackOff' } }, lastState: terminated });
    expect(choose(status).path).toBe(join(dir, 'c', '1.log'));
    expect(choose(status, true).path).toBe(join(dir, 'c', '1.log'));
  });

  test("upstream's messages when there is nothing to read", () => {
    expect(() => choose(statusWith({ state: { running: {} } }), true)).toThrow('previous terminated container "c" in pod "p" not found');
    expect(() => choose(statusWith({ state: { waiting: { reason: 'ContainerCreating' } } }))).toThrow(
      'container "c" in pod "p" is waiting to start: ContainerCreating',
    );
    expect(() => choose(statusWith({ state: { waiting: { reason: 'ErrImagePull' } } }))).toThrow("is waiting to start: image can't be pulled");
    expect(() => choose(statusWith({ state: { waiting: { reason: 'ImagePullBackOff' } } }))).toThrow('trying and failing to pull image');
    expect(() => choose(statusWith({ state: {} }))).toThrow('container "c" in pod "p" is waiting to start - no logs yet');
    expect(() => choose(statusWith({ state: { terminated: { exitCode: 128 } } }))).toThrow('container "c" in pod "p" is terminated');
    expect(() => choose({})).toThrow('container "c" in pod "p" is not available');
  });

  test('without a status, the files decide', () => {
    writeFileSync(join(dir, 'c', '0.log'), '');
    writeFileSync(join(dir, 'c', '1.log'), '');
    writeFileSync(join(dir, 'c', '1.log.20260102-030405'), '');
    expect(choose(undefined, false, false)).toMatchObject({ path: join(dir, 'c', '1.log'), running: true });
    expect(choose(undefined, true, false).path).toBe(join(dir, 'c', '0.log'));
    rmSync(join(dir, 'c', '0.log'));
    expect(() => choose(undefined, true, false)).toThrow('previous terminated container "c" in pod "p" not found');
  });
});
