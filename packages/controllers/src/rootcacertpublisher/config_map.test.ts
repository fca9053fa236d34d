import type { ConfigMap } from 'kubernetes-types/core/v1.js';
import { describe, expect, test } from 'vitest';
import { DESCRIPTION, newRootCaConfigMap, repairedRootCaConfigMap } from './config_map.js';

const PEM = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';

describe('kube-root-ca.crt', () => {
  test('a new ConfigMap holds ca.crt and the description', () => {
    expect(newRootCaConfigMap('team-a', PEM)).toEqual({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'kube-root-ca.crt', namespace: 'team-a', annotations: { 'kubernetes.io/description': DESCRIPTION } },
      data: { 'ca.crt': PEM },
    });
  });

  test('an intact ConfigMap is left alone; edited data or a removed description is put back, other annotations kept', () => {
    const stored: ConfigMap = { ...newRootCaConfigMap('team-a', PEM), metadata: { ...newRootCaConfigMap('team-a', PEM).metadata, resourceVersion: '4', annotations: { 'kubernetes.io/description': 'mine', other: 'x' } } };
    expect(repairedRootCaConfigMap(stored, PEM)).toBeUndefined();
    const edited = repairedRootCaConfigMap({ ...stored, data: { 'ca.crt': 'tampered', extra: 'y' } }, PEM);
    expect(edited?.data).toEqual({ 'ca.crt': PEM });
    expect(edited?.metadata?.resourceVersion).toBe('4');
    expect(edited?.metadata?.annotations).toEqual({ 'kubernetes.io/description': DESCRIPTION, other: 'x' });
    const undescribed = repairedRootCaConfigMap({ ...stored, metadata: { ...stored.metadata, annotations: { other: 'x' } } }, PEM);
    expect(undescribed?.metadata?.annotations).toEqual({ 'kubernetes.io/description': DESCRIPTION, other: 'x' });
  });
});
