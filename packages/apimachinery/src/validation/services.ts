/**
 * Services, Endpoints and EndpointSlices (core and discovery validation), as kube-apiserver 1.32.
 * Allocating cluster IPs and node ports (range, already allocated) belongs to the server's
 * allocator, which runs before this validation, as upstream's does.
 */
import type { FieldError } from '../errors.js';
import { fieldErrors } from '../errors.js';
import { goStrings, invalidEach, invalidGoValue, list, record, text } from './common.js';
import { validateLabels, validateObjectMeta, validateObjectMetaUpdate } from './metadata.js';
import {
  isDns1123Label,
  isDns1123Subdomain,
  isQualifiedName,
  isValidPortName,
  isValidPortNumber,
  nameIsDns1035Label,
  nameIsDnsSubdomain,
} from './names.js';
import { validateProtocol } from './pods.js';

const SERVICE_TYPES = ['ClusterIP', 'ExternalName', 'LoadBalancer', 'NodePort'];
const SESSION_AFFINITIES = ['ClientIP', 'None'];
const INTERNAL_TRAFFIC_POLICIES = ['Cluster', 'Local'];
const EXTERNAL_TRAFFIC_POLICIES = ['Cluster', 'Local'];
const IP_FAMILIES = ['IPv4', 'IPv6'];
const IP_FAMILY_POLICIES = ['PreferDualStack', 'RequireDualStack', 'SingleStack'];
const ADDRESS_TYPES = ['FQDN', 'IPv4', 'IPv6'];
/** core.MaxClientIPServiceAffinitySeconds: one day. */
const MAX_CLIENT_IP_AFFINITY_SECONDS = 86400;
const NOT_AN_IP = 'must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)';
const MAY_NOT_CHANGE = 'may not change once set';

/** Upstream's isHeadlessService: judged by clusterIPs, which the server fills from clusterIP first. */
export function isHeadlessService(spec: Record<string, unknown>): boolean {
  const clusterIPs = list(spec['clusterIPs']);
  return clusterIPs.length === 1 && clusterIPs[0] === 'None';
}

export function validateService(service: unknown): FieldError[] {
  const fields = record(service);
  const spec = record(fields['spec']);
  const type = text(spec['type']);
  const errors = validateObjectMeta(fields['metadata'], true, nameIsDns1035Label);
  const ports = list(spec['ports']).map(record);
  const headless = isHeadlessService(spec);
  if (ports.length === 0 && !headless && type !== 'ExternalName') errors.push(fieldErrors.required('spec.ports'));
  if ((type === 'LoadBalancer' || type === 'NodePort') && headless)
    errors.push(fieldErrors.invalid('spec.clusterIPs[0]', 'None', `may not be set to 'None' for ${type} services`));
  if (type === 'ExternalName') errors.push(...validateExternalName(spec));
  const names = new Set<string>();
  ports.forEach((port, index) => errors.push(...validateServicePort(port, ports.length > 1, names, `spec.ports[${index}]`)));
  if (spec['selector'] !== undefined && spec['selector'] !== null) errors.push(...validateLabels(spec['selector'], 'spec.selector'));
  errors.push(...validateSessionAffinity(spec));
  errors.push(...validateServiceClusterIPs(spec));
  list(spec['externalIPs']).forEach((ip, index) => {
    if (!isIpAddress(text(ip))) errors.push(fieldErrors.invalid(`spec.externalIPs[${index}]`, ip, NOT_AN_IP));
  });
  errors.push(...requiredOneOf('spec.type', type, SERVICE_TYPES));
  errors.push(...validatePortCombinations(ports, type));
  errors.push(...validateTrafficPolicies(spec, type));
  return errors;
}

/**
 * An update: the cluster IPs and IP families a Service holds may not change (an ExternalName
 * Service, or a change to or from one, is exempt), then every create check on the new object.
 */
export function validateServiceUpdate(service: unknown, old: unknown): FieldError[] {
  const spec = record(record(service)['spec']);
  const oldSpec = record(record(old)['spec']);
  return [
    ...validateObjectMetaUpdate(record(service)['metadata'], record(old)['metadata']),
    ...validateClusterIPsUpdate(spec, oldSpec),
    ...validateIpFamiliesUpdate(spec, oldSpec),
    ...validateService(service),
  ];
}

function validateClusterIPsUpdate(spec: Record<string, unknown>, oldSpec: Record<string, unknown>): FieldError[] {
  if (text(spec['type']) === 'ExternalName' || text(oldSpec['type']) === 'ExternalName') return [];
  if (isHeadlessService(spec) && isHeadlessService(oldSpec)) return [];
  const ips = list<string>(spec['clusterIPs']);
  const oldIps = list<string>(oldSpec['clusterIPs']);
  const value = Array.isArray(spec['clusterIPs']) ? ips : undefined;
  const invalid = (index: number, detail: string): FieldError => invalidGoValue(`spec.clusterIPs[${index}]`, value ?? null, goStrings(value), detail);
  const errors: FieldError[] = [];
  if (ips.length === oldIps.length) {
    oldIps.forEach((ip, index) => {
      if (ip !== ips[index]) errors.push(invalid(index, MAY_NOT_CHANGE));
    });
  } else if (ips.length < oldIps.length) {
    if (ips.length === 0) errors.push(invalid(0, 'primary clusterIP can not be unset'));
    else if (ips[0] !== oldIps[0]) errors.push(invalid(0, MAY_NOT_CHANGE));
    if (ips.length === 1 && text(spec['ipFamilyPolicy']) !== 'SingleStack')
      errors.push(fieldErrors.invalid('spec.ipFamilyPolicy', spec['ipFamilyPolicy'] ?? null, "must be set to 'SingleStack' when releasing the secondary clusterIP"));
  } else if (oldIps.length > 0 && ips[0] !== oldIps[0]) {
    errors.push(invalid(0, MAY_NOT_CHANGE));
  }
  return errors;
}

function validateIpFamiliesUpdate(spec: Record<string, unknown>, oldSpec: Record<string, unknown>): FieldError[] {
  if (text(spec['type']) === 'ExternalName' || text(oldSpec['type']) === 'ExternalName') return [];
  if (isHeadlessService(spec) || isHeadlessService(oldSpec)) return [];
  const families = list<string>(spec['ipFamilies']);
  const oldFamilies = list<string>(oldSpec['ipFamilies']);
  const goValue = goStrings(Array.isArray(spec['ipFamilies']) ? families : undefined, 'core.IPFamily');
  if (families.length === oldFamilies.length && oldFamilies.some((family, index) => family !== families[index]))
    return [invalidGoValue('spec.ipFamilies[0]', families, goValue, MAY_NOT_CHANGE)];
  if (families.length < oldFamilies.length && families.length === 0)
    return [invalidGoValue('spec.ipFamilies[0]', families, goValue, 'primary ipFamily can not be unset')];
  return [];
}

function validateExternalName(spec: Record<string, unknown>): FieldError[] {
  const errors: FieldError[] = [];
  if (list(spec['clusterIPs']).length > 0) errors.push(fieldErrors.forbidden('spec.clusterIPs', 'may not be set for ExternalName services'));
  if (list(spec['ipFamilies']).length > 0) errors.push(fieldErrors.forbidden('spec.ipFamilies', 'may not be set for ExternalName services'));
  if (spec['ipFamilyPolicy'] !== undefined && spec['ipFamilyPolicy'] !== null)
    errors.push(fieldErrors.forbidden('spec.ipFamilyPolicy', 'may not be set for ExternalName services'));
  const cname = text(spec['externalName']).replace(/\.$/, '');
  if (cname === '') errors.push(fieldErrors.required('spec.externalName'));
  else errors.push(...invalidEach('spec.externalName', cname, isDns1123Subdomain(cname)));
  return errors;
}

function validateSessionAffinity(spec: Record<string, unknown>): FieldError[] {
  const affinity = text(spec['sessionAffinity']);
  const errors = requiredOneOf('spec.sessionAffinity', affinity, SESSION_AFFINITIES);
  const config = spec['sessionAffinityConfig'];
  const path = 'spec.sessionAffinityConfig';
  const set = (value: unknown): boolean => value !== undefined && value !== null;
  if (affinity === 'None' && set(config)) errors.push(fieldErrors.forbidden(path, 'must not be set when session affinity is None'));
  if (affinity !== 'ClientIP') return errors;
  const required = 'when session affinity type is ClientIP';
  if (!set(config)) return [...errors, fieldErrors.required(path, required)];
  const clientIP = record(config)['clientIP'];
  if (!set(clientIP)) return [...errors, fieldErrors.required(`${path}.clientIP`, required)];
  const timeout = record(clientIP)['timeoutSeconds'];
  if (!set(timeout)) return [...errors, fieldErrors.required(`${path}.clientIP.timeoutSeconds`, required)];
  if (typeof timeout !== 'number' || timeout <= 0 || timeout > MAX_CLIENT_IP_AFFINITY_SECONDS)
    errors.push(fieldErrors.invalid(`${path}.clientIP.timeoutSeconds`, timeout, `must be greater than 0 and less than ${MAX_CLIENT_IP_AFFINITY_SECONDS}`));
  return errors;
}

/**
 * Upstream's ValidateServiceClusterIPsRelatedFields: clusterIP and clusterIPs agree, the IPs are
 * IPs ("None" only alone), the families and policy are known values and match the IPs. The
 * allocator runs it before it allocates, as kube's does.
 */
export function validateServiceClusterIPs(service: Record<string, unknown>): FieldError[] {
  const spec = service;
  if (text(spec['type']) === 'ExternalName') return [];
  const errors: FieldError[] = [];
  const clusterIP = text(spec['clusterIP']);
  const ips = list<unknown>(spec['clusterIPs']);
  const goIps = goStrings(Array.isArray(spec['clusterIPs']) ? ips.map(text) : undefined);
  const invalidIps = (path: string, detail: string): FieldError => invalidGoValue(path, ips, goIps, detail);
  if (clusterIP !== '') {
    if (ips.length === 0) errors.push(fieldErrors.required('spec.clusterIPs'));
    else if (ips[0] !== clusterIP) errors.push(invalidIps('spec.clusterIPs', 'first value must match `clusterIP`'));
  } else if (ips.length > 0) {
    errors.push(invalidIps('spec.clusterIPs', 'must be empty when `clusterIP` is not specified'));
  }
  const families = list<unknown>(spec['ipFamilies']);
  const seen = new Set<unknown>();
  families.forEach((family, index) => {
    if (!IP_FAMILIES.includes(text(family))) errors.push(fieldErrors.notSupported(`spec.ipFamilies[${index}]`, family, IP_FAMILIES));
    if (seen.has(family)) errors.push(fieldErrors.duplicate(`spec.ipFamilies[${index}]`, family));
    seen.add(family);
  });
  const policy = spec['ipFamilyPolicy'];
  if (policy !== undefined && policy !== null && !IP_FAMILY_POLICIES.includes(text(policy)))
    errors.push(fieldErrors.notSupported('spec.ipFamilyPolicy', policy, IP_FAMILY_POLICIES));
  let badIps = false;
  ips.forEach((ip, index) => {
    if (index === 0 && ip === 'None') {
      if (ips.length > 1) {
        badIps = true;
        errors.push(invalidIps('spec.clusterIPs', "'None' must be the first and only value"));
      }
      return;
    }
    if (!isIpAddress(text(ip))) {
      badIps = true;
      errors.push(fieldErrors.invalid(`spec.clusterIPs[${index}]`, ip, NOT_AN_IP));
    }
  });
  if (ips.length > 2) errors.push(invalidIps('spec.clusterIPs', 'may only hold up to 2 values'));
  if (badIps) return errors;
  if (ips.length > 1 && isIpv6(text(ips[0])) === isIpv6(text(ips[1])))
    errors.push(invalidIps('spec.clusterIPs', 'may specify no more than one IP for each IP family'));
  if (ips[0] !== 'None')
    ips.forEach((ip, index) => {
      const family = text(families[index]);
      if (family === 'IPv4' && isIpv6(text(ip)))
        errors.push(fieldErrors.invalid(`spec.clusterIPs[${index}]`, ip, `expected an IPv4 value as indicated by \`ipFamilies[${index}]\``));
      if (family === 'IPv6' && !isIpv6(text(ip)))
        errors.push(fieldErrors.invalid(`spec.clusterIPs[${index}]`, ip, `expected an IPv6 value as indicated by \`ipFamilies[${index}]\``));
    });
  return errors;
}

function validateServicePort(port: Record<string, unknown>, nameRequired: boolean, names: Set<string>, path: string): FieldError[] {
  const errors: FieldError[] = [];
  const name = text(port['name']);
  if (nameRequired && name === '') errors.push(fieldErrors.required(`${path}.name`));
  else if (name !== '') {
    errors.push(...invalidEach(`${path}.name`, name, isDns1123Label(name)));
    if (names.has(name)) errors.push(fieldErrors.duplicate(`${path}.name`, name));
    else names.add(name);
  }
  errors.push(...invalidEach(`${path}.port`, port['port'] ?? 0, isValidPortNumber(Number(port['port'] ?? 0))));
  errors.push(...validateProtocol(port['protocol'], `${path}.protocol`));
  errors.push(...validatePortNumberOrName(port['targetPort'], `${path}.targetPort`));
  if (typeof port['appProtocol'] === 'string') errors.push(...invalidEach(`${path}.appProtocol`, port['appProtocol'], isQualifiedName(port['appProtocol'])));
  return errors;
}

/** An IntOrString port: a number in 1-65535 or an IANA service name. */
export function validatePortNumberOrName(value: unknown, path: string): FieldError[] {
  if (typeof value === 'string') return invalidEach(path, value, isValidPortName(value));
  const port = typeof value === 'number' ? value : 0;
  return invalidEach(path, port, isValidPortNumber(port));
}

function requiredOneOf(path: string, value: unknown, supported: readonly string[]): FieldError[] {
  const given = text(value);
  if (given === '') return [fieldErrors.required(path)];
  return supported.includes(given) ? [] : [fieldErrors.notSupported(path, given, supported)];
}

/** Go's %#v of the core.ServicePort key upstream's duplicate check builds (only protocol and port set). */
function goServicePortKey(protocol: string, port: unknown): string {
  const number = typeof port === 'number' ? port : 0;
  return `core.ServicePort{Name:"", Protocol:${JSON.stringify(protocol)}, AppProtocol:(*string)(nil), Port:${number}, TargetPort:intstr.IntOrString{Type:0, IntVal:0, StrVal:""}, NodePort:0}`;
}

function validatePortCombinations(ports: readonly Record<string, unknown>[], type: string): FieldError[] {
  const errors: FieldError[] = [];
  const nodePorts = new Set<string>();
  const servicePorts = new Set<string>();
  ports.forEach((port, index) => {
    const path = `spec.ports[${index}]`;
    const nodePort = port['nodePort'];
    const protocol = text(port['protocol']);
    if (type === 'ClusterIP' && typeof nodePort === 'number' && nodePort !== 0)
      errors.push(fieldErrors.forbidden(`${path}.nodePort`, "may not be used when `type` is 'ClusterIP'"));
    if (typeof nodePort === 'number' && nodePort !== 0) {
      if (nodePorts.has(`${protocol}/${nodePort}`)) errors.push(fieldErrors.duplicate(`${path}.nodePort`, nodePort));
      nodePorts.add(`${protocol}/${nodePort}`);
    }
    const key = `${protocol}/${String(port['port'])}`;
    if (servicePorts.has(key)) errors.push({ ...fieldErrors.duplicate(path, { port: port['port'], protocol }), goValue: goServicePortKey(protocol, port['port']) });
    servicePorts.add(key);
  });
  return errors;
}

function validateTrafficPolicies(spec: Record<string, unknown>, type: string): FieldError[] {
  const errors: FieldError[] = [];
  const externallyAccessible = type === 'LoadBalancer' || type === 'NodePort' || (type === 'ClusterIP' && list(spec['externalIPs']).length > 0);
  const external = text(spec['externalTrafficPolicy']);
  if (!externallyAccessible && external !== '')
    errors.push(fieldErrors.invalid('spec.externalTrafficPolicy', external, 'may only be set for externally-accessible services'));
  if (externallyAccessible) errors.push(...requiredOneOf('spec.externalTrafficPolicy', external, EXTERNAL_TRAFFIC_POLICIES));
  const healthCheckNodePort = typeof spec['healthCheckNodePort'] === 'number' ? spec['healthCheckNodePort'] : 0;
  if (!(type === 'LoadBalancer' && external === 'Local')) {
    if (healthCheckNodePort !== 0)
      errors.push(
        fieldErrors.invalid('spec.healthCheckNodePort', healthCheckNodePort, "may only be set when `type` is 'LoadBalancer' and `externalTrafficPolicy` is 'Local'"),
      );
  } else if (healthCheckNodePort === 0) {
    errors.push(fieldErrors.required('spec.healthCheckNodePort'));
  } else {
    errors.push(...invalidEach('spec.healthCheckNodePort', healthCheckNodePort, isValidPortNumber(healthCheckNodePort)));
  }
  const internal = spec['internalTrafficPolicy'];
  if (internal === undefined || internal === null) {
    if (type === 'NodePort' || type === 'LoadBalancer' || type === 'ClusterIP') errors.push(fieldErrors.required('spec.internalTrafficPolicy'));
  } else if (!INTERNAL_TRAFFIC_POLICIES.includes(text(internal))) {
    errors.push(fieldErrors.notSupported('spec.internalTrafficPolicy', internal, INTERNAL_TRAFFIC_POLICIES));
  }
  if (spec['allocateLoadBalancerNodePorts'] !== undefined && spec['allocateLoadBalancerNodePorts'] !== null && type !== 'LoadBalancer')
    errors.push(fieldErrors.forbidden('spec.allocateLoadBalancerNodePorts', "may only be used when `type` is 'LoadBalancer'"));
  if (type === 'LoadBalancer' && (spec['allocateLoadBalancerNodePorts'] === undefined || spec['allocateLoadBalancerNodePorts'] === null))
    errors.push(fieldErrors.required('allocateLoadBalancerNodePorts'));
  return errors;
}

export function validateEndpoints(endpoints: unknown): FieldError[] {
  const fields = record(endpoints);
  const errors = validateObjectMeta(fields['metadata'], true, nameIsDnsSubdomain);
  list(fields['subsets']).forEach((item, index) => {
    const subset = record(item);
    const path = `subsets[${index}]`;
    if (list(subset['addresses']).length === 0 && list(subset['notReadyAddresses']).length === 0)
      errors.push(fieldErrors.required(path, 'must specify `addresses` or `notReadyAddresses`'));
    for (const key of ['addresses', 'notReadyAddresses'])
      list(subset[key]).forEach((address, addressIndex) => {
        const ip = text(record(address)['ip']);
        if (!isIpAddress(ip)) errors.push(fieldErrors.invalid(`${path}.${key}[${addressIndex}].ip`, ip, 'must be a valid IP address'));
      });
    const ports = list(subset['ports']).map(record);
    ports.forEach((port, portIndex) => errors.push(...validateEndpointPort(port, ports.length > 1, `${path}.ports[${portIndex}]`)));
  });
  return errors;
}

function validateEndpointPort(port: Record<string, unknown>, nameRequired: boolean, path: string): FieldError[] {
  const errors: FieldError[] = [];
  const name = text(port['name']);
  if (nameRequired && name === '') errors.push(fieldErrors.required(`${path}.name`));
  else if (name !== '') errors.push(...invalidEach(`${path}.name`, name, isDns1123Label(name)));
  errors.push(...invalidEach(`${path}.port`, port['port'] ?? 0, isValidPortNumber(Number(port['port'] ?? 0))));
  errors.push(...validateProtocol(port['protocol'], `${path}.protocol`));
  return errors;
}

export function validateEndpointSlice(slice: unknown): FieldError[] {
  const fields = record(slice);
  const errors = validateObjectMeta(fields['metadata'], true, nameIsDnsSubdomain);
  errors.push(...requiredOneOf('addressType', fields['addressType'], ADDRESS_TYPES));
  list(fields['endpoints']).forEach((endpoint, index) => {
    if (list(record(endpoint)['addresses']).length === 0)
      errors.push(fieldErrors.required(`endpoints[${index}].addresses`, 'must contain at least 1 address'));
  });
  const names = new Set<string>();
  list(fields['ports']).forEach((item, index) => {
    const port = record(item);
    const path = `ports[${index}]`;
    const name = text(port['name']);
    if (name !== '') errors.push(...invalidEach(`${path}.name`, name, isDns1123Label(name)));
    if (names.has(name)) errors.push(fieldErrors.duplicate(`${path}.name`, name));
    names.add(name);
    if (port['protocol'] !== undefined) errors.push(...validateProtocol(port['protocol'], `${path}.protocol`));
    if (typeof port['port'] === 'number') errors.push(...invalidEach(`${path}.port`, port['port'], isValidPortNumber(port['port'])));
  });
  return errors;
}

function isIpv6(value: string): boolean {
  return value.includes(':');
}

export function isIpAddress(value: string): boolean {
  const v4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;
  return v4.test(value) || (value.includes(':') && /^[0-9a-fA-F:.]+$/.test(value));
}
