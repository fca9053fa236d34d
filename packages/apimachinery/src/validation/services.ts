/**
 * Services, Endpoints and EndpointSlices (core and discovery validation). Cluster IP allocation and
 * its checks belong to the server's allocator, not here.
 */
import type { FieldError } from '../errors.js';
import { fieldErrors } from '../errors.js';
import { invalidEach, list, record, text } from './common.js';
import { validateLabels, validateObjectMeta } from './metadata.js';
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
const ADDRESS_TYPES = ['FQDN', 'IPv4', 'IPv6'];

export function validateService(service: unknown): FieldError[] {
  const fields = record(service);
  const spec = record(fields['spec']);
  const type = text(spec['type']);
  const errors = validateObjectMeta(fields['metadata'], true, nameIsDns1035Label);
  const ports = list(spec['ports']).map(record);
  const headless = text(spec['clusterIP']) === 'None';
  if (ports.length === 0 && !headless && type !== 'ExternalName') errors.push(fieldErrors.required('spec.ports'));
  if (type === 'ExternalName') errors.push(...validateExternalName(spec));
  const names = new Set<string>();
  ports.forEach((port, index) => errors.push(...validateServicePort(port, ports.length > 1, names, `spec.ports[${index}]`)));
  if (spec['selector'] !== undefined) errors.push(...validateLabels(spec['selector'], 'spec.selector'));
  errors.push(...requiredOneOf('spec.sessionAffinity', spec['sessionAffinity'], SESSION_AFFINITIES));
  errors.push(...requiredOneOf('spec.type', type, SERVICE_TYPES));
  errors.push(...validatePortCombinations(ports, type));
  errors.push(...validateTrafficPolicies(spec, type));
  return errors;
}

function validateExternalName(spec: Record<string, unknown>): FieldError[] {
  const errors: FieldError[] = [];
  if (list(spec['clusterIPs']).length > 0) errors.push(fieldErrors.forbidden('spec.clusterIPs', 'may not be set for ExternalName services'));
  const cname = text(spec['externalName']).replace(/\.$/, '');
  if (cname === '') errors.push(fieldErrors.required('spec.externalName'));
  else errors.push(...invalidEach('spec.externalName', cname, isDns1123Subdomain(cname)));
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
    if (servicePorts.has(key)) errors.push(fieldErrors.duplicate(path, { port: port['port'], protocol }));
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
  const internal = spec['internalTrafficPolicy'];
  if (internal === undefined || internal === null) {
    if (type === 'NodePort' || type === 'LoadBalancer' || type === 'ClusterIP') errors.push(fieldErrors.required('spec.internalTrafficPolicy'));
  } else if (!INTERNAL_TRAFFIC_POLICIES.includes(text(internal))) {
    errors.push(fieldErrors.notSupported('spec.internalTrafficPolicy', internal, INTERNAL_TRAFFIC_POLICIES));
  }
  if (spec['allocateLoadBalancerNodePorts'] !== undefined && type !== 'LoadBalancer')
    errors.push(fieldErrors.forbidden('spec.allocateLoadBalancerNodePorts', "may only be used when `type` is 'LoadBalancer'"));
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

function isIpAddress(value: string): boolean {
  const v4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;
  return v4.test(value) || (value.includes(':') && /^[0-9a-fA-F:.]+$/.test(value));
}
