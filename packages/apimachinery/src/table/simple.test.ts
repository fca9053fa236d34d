import type { PriorityClass } from 'kubernetes-types/scheduling/v1.js';
import { describe, expect, it } from 'vitest';
import {
  configMapPrinter,
  defaultPrinter,
  leasePrinter,
  namespacePrinter,
  priorityClassPrinter,
  secretPrinter,
  serviceAccountPrinter,
} from './simple.js';

const NOW = new Date('2025-01-01T12:00:00Z');
const metadata = (name: string) => ({ name, creationTimestamp: '2024-12-01T12:00:00Z' });

describe('simple tables', () => {
  it('namespace: NAME STATUS AGE', () => {
    expect(namespacePrinter.cells({ metadata: metadata('kube-system'), status: { phase: 'Active' } }, NOW)).toEqual(['kube-system', 'Active', '31d']);
    expect(namespacePrinter.cells({ metadata: metadata('old'), status: { phase: 'Terminating' } }, NOW)[1]).toBe('Terminating');
  });

  it('configmap: DATA counts data and binaryData keys', () => {
    const configMap = { metadata: metadata('kube-root-ca.crt'), data: { 'ca.crt': '...', extra: 'x' }, binaryData: { blob: 'AA==' } };
    expect(configMapPrinter.cells(configMap, NOW)).toEqual(['kube-root-ca.crt', 3, '31d']);
    expect(configMapPrinter.cells({ metadata: metadata('empty') }, NOW)[1]).toBe(0);
  });

  it('secret: NAME TYPE DATA AGE', () => {
    const secret = { metadata: metadata('db'), type: 'Opaque', data: { user: 'YQ==', password: 'Yg==' } };
    expect(secretPrinter.cells(secret, NOW)).toEqual(['db', 'Opaque', 2, '31d']);
  });

  it('serviceaccount: SECRETS counts listed secrets', () => {
    expect(serviceAccountPrinter.cells({ metadata: metadata('default') }, NOW)).toEqual(['default', 0, '31d']);
    expect(serviceAccountPrinter.cells({ metadata: metadata('ci'), secrets: [{ name: 'ci-token' }] }, NOW)[1]).toBe(1);
  });

  it('lease: HOLDER is the holder identity, or empty', () => {
    const lease = { metadata: metadata('kube-scheduler'), spec: { holderIdentity: 'scheduler-1_3f2a' } };
    expect(leasePrinter.cells(lease, NOW)).toEqual(['kube-scheduler', 'scheduler-1_3f2a', '31d']);
    expect(leasePrinter.cells({ metadata: metadata('free'), spec: {} }, NOW)[1]).toBe('');
  });

  it('priorityclass: VALUE GLOBAL-DEFAULT AGE PREEMPTIONPOLICY, all shown without -o wide', () => {
    const critical: PriorityClass = { metadata: metadata('system-node-critical'), value: 2000001000, preemptionPolicy: 'PreemptLowerPriority' };
    expect(priorityClassPrinter.cells(critical, NOW)).toEqual(['system-node-critical', 2000001000, false, '31d', 'PreemptLowerPriority']);
    expect(priorityClassPrinter.columns.every((column) => column.priority === 0)).toBe(true);
  });

  it('default: NAME AGE, <unknown> without a creation time', () => {
    expect(defaultPrinter.cells({ metadata: metadata('thing') }, NOW)).toEqual(['thing', '31d']);
    expect(defaultPrinter.cells({ metadata: { name: 'new' } }, NOW)).toEqual(['new', '<unknown>']);
  });
});
