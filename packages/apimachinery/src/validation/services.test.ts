import { describe, expect, it } from 'vitest';
import { applyDefaults } from '../defaults.js';
import { formatFieldError } from '../errors.js';
import { findResource, type ResourceType } from '../resources.js';
import { validateObject } from './index.js';

/** Service validation as kube-apiserver 1.32 words it, on objects as the server holds them (after allocation). */
const SERVICES = findResource('', 'v1', 'services') as ResourceType;

function service(spec: Record<string, unknown>): Record<string, unknown> {
  const object = { metadata: { name: 'web', namespace: 'default' }, spec };
  applyDefaults(SERVICES, object);
  return object;
}

/** A ClusterIP Service as allocation leaves it. */
const allocated = { clusterIP: '10.96.0.10', clusterIPs: ['10.96.0.10'], ipFamilies: ['IPv4'], ipFamilyPolicy: 'SingleStack' };

function check(spec: Record<string, unknown>, oldSpec?: Record<string, unknown>): string[] {
  return validateObject(SERVICES, service(spec), oldSpec === undefined ? undefined : service(oldSpec)).map(formatFieldError);
}

describe('create', () => {
  it('defaults ClientIP affinity to 10800 s and refuses timeouts outside (0, 86400]', () => {
    const sticky = service({ ...allocated, sessionAffinity: 'ClientIP', ports: [{ port: 80 }] });
    expect((sticky['spec'] as Record<string, unknown>)['sessionAffinityConfig']).toEqual({ clientIP: { timeoutSeconds: 10800 } });
    expect(check({ ...allocated, sessionAffinity: 'ClientIP', sessionAffinityConfig: { clientIP: { timeoutSeconds: 86400 } }, ports: [{ port: 80 }] })).toEqual([]);
    expect(check({ ...allocated, sessionAffinity: 'ClientIP', sessionAffinityConfig: { clientIP: { timeoutSeconds: 86401 } }, ports: [{ port: 80 }] })).toEqual([
      'spec.sessionAffinityConfig.clientIP.timeoutSeconds: Invalid value: 86401: must be greater than 0 and less than 86400',
    ]);
  });

  it('keeps clusterIP and clusterIPs in step, and checks the IPs and families', () => {
    expect(check({ clusterIP: '10.96.0.10', clusterIPs: ['10.96.0.11'], ports: [{ port: 80 }] })).toEqual([
      'spec.clusterIPs: Invalid value: []string{"10.96.0.11"}: first value must match `clusterIP`',
    ]);
    expect(check({ clusterIPs: ['10.96.0.11'], ports: [{ port: 80 }] })).toEqual([
      'spec.clusterIPs: Invalid value: []string{"10.96.0.11"}: must be empty when `clusterIP` is not specified',
    ]);
    expect(check({ clusterIP: 'None', clusterIPs: ['None', '10.96.0.1'], ports: [{ port: 80 }] })).toEqual([
      `spec.clusterIPs: Invalid value: []string{"None", "10.96.0.1"}: 'None' must be the first and only value`,
    ]);
    expect(check({ ...allocated, ipFamilies: ['IPv5'], ipFamilyPolicy: 'Mixed', ports: [{ port: 80 }] })).toEqual([
      'spec.ipFamilies[0]: Unsupported value: "IPv5": supported values: "IPv4", "IPv6"',
      'spec.ipFamilyPolicy: Unsupported value: "Mixed": supported values: "PreferDualStack", "RequireDualStack", "SingleStack"',
    ]);
    expect(check({ ...allocated, ipFamilies: ['IPv6'], ports: [{ port: 80 }] })).toEqual([
      'spec.clusterIPs[0]: Invalid value: "10.96.0.10": expected an IPv6 value as indicated by `ipFamilies[0]`',
    ]);
  });

  it('refuses fields an ExternalName Service cannot have', () => {
    expect(check({ type: 'ExternalName', externalName: 'example.com', ipFamilies: ['IPv4'], ipFamilyPolicy: 'SingleStack' })).toEqual([
      'spec.ipFamilies: Forbidden: may not be set for ExternalName services',
      'spec.ipFamilyPolicy: Forbidden: may not be set for ExternalName services',
    ]);
    expect(check({ type: 'ExternalName', externalName: 'Not_A_Name' })[0]).toMatch(/^spec\.externalName: Invalid value: "Not_A_Name": a lowercase RFC 1123 subdomain/);
  });

  it('wants a health check node port exactly for LoadBalancer with Local traffic', () => {
    const ports = [{ port: 80, nodePort: 30080 }];
    expect(check({ ...allocated, type: 'LoadBalancer', externalTrafficPolicy: 'Local', ports })).toEqual(['spec.healthCheckNodePort: Required value']);
    expect(check({ ...allocated, type: 'LoadBalancer', externalTrafficPolicy: 'Local', healthCheckNodePort: 30081, ports })).toEqual([]);
    expect(check({ ...allocated, type: 'NodePort', healthCheckNodePort: 30081, ports })).toEqual([
      "spec.healthCheckNodePort: Invalid value: 30081: may only be set when `type` is 'LoadBalancer' and `externalTrafficPolicy` is 'Local'",
    ]);
  });

  it('refuses two node ports alike, and externalIPs that are not IPs', () => {
    expect(check({ ...allocated, type: 'NodePort', ports: [{ name: 'a', port: 80, nodePort: 30080 }, { name: 'b', port: 81, nodePort: 30080 }] })).toEqual([
      'spec.ports[1].nodePort: Duplicate value: 30080',
    ]);
    expect(check({ ...allocated, externalIPs: ['1.2.3'], ports: [{ port: 80 }] })).toEqual([
      'spec.externalIPs[0]: Invalid value: "1.2.3": must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)',
    ]);
  });
});

describe('update', () => {
  const ports = [{ port: 80 }];

  it('refuses an unset primary cluster IP and a changed IP family', () => {
    expect(check({ ports, ipFamilies: ['IPv4'], ipFamilyPolicy: 'SingleStack' }, { ...allocated, ports })).toEqual([
      'spec.clusterIPs[0]: Invalid value: []string(nil): primary clusterIP can not be unset',
    ]);
    expect(check({ ...allocated, ports, ipFamilies: ['IPv6'], clusterIP: '10.96.0.10' }, { ...allocated, ports })).toContain(
      'spec.ipFamilies[0]: Invalid value: []core.IPFamily{"IPv6"}: may not change once set',
    );
  });

  it('lets a Service become ExternalName and back without cluster IP checks', () => {
    expect(check({ type: 'ExternalName', externalName: 'example.com', ports }, { ...allocated, ports })).toEqual([]);
    expect(check({ ...allocated, clusterIP: '10.96.0.77', clusterIPs: ['10.96.0.77'], ports }, { type: 'ExternalName', externalName: 'example.com' })).toEqual([]);
  });
});
