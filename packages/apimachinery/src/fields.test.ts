import { describe, expect, it } from 'vitest';
import { ApiError } from './errors.js';
import { matchesFields, parseFieldSelector, selectableFieldValue } from './fields.js';
import { findResource } from './resources.js';

function typeOf(resource: string, group = '') {
  const type = findResource(group, 'v1', resource);
  if (type === undefined) throw new Error(`no resource ${resource}`);
  return type;
}

const pods = typeOf('pods');

function parseError(text: string, resource = 'pods'): ApiError {
  try {
    parseFieldSelector(text, typeOf(resource));
  } catch (error) {
    if (error instanceof ApiError) return error;
    throw error;
  }
  throw new Error(`expected ${JSON.stringify(text)} to be rejected`);
}

describe('parseFieldSelector', () => {
  it('parses the three operators, sorting terms as upstream does', () => {
    expect(parseFieldSelector('status.phase!=Running,metadata.name==web,spec.nodeName=n1', pods)).toEqual([
      { field: 'metadata.name', operator: '==', value: 'web' },
      { field: 'spec.nodeName', operator: '=', value: 'n1' },
      { field: 'status.phase', operator: '!=', value: 'Running' },
    ]);
  });

  it('accepts empty input, empty terms and empty values', () => {
    expect(parseFieldSelector('', pods)).toEqual([]);
    expect(parseFieldSelector('spec.nodeName=,', pods)).toEqual([{ field: 'spec.nodeName', operator: '=', value: '' }]);
  });

  it('unescapes \\, \\= and \\\\ in values', () => {
    expect(parseFieldSelector('metadata.name=a\\,b\\=c\\\\d', pods)).toEqual([
      { field: 'metadata.name', operator: '=', value: 'a,b=c\\d' },
    ]);
  });

  it('allows metadata fields everywhere and selectable fields per resource', () => {
    expect(parseFieldSelector('metadata.namespace=default', typeOf('configmaps'))).toHaveLength(1);
    expect(parseFieldSelector('type=kubernetes.io/tls', typeOf('secrets'))).toHaveLength(1);
    expect(parseFieldSelector('involvedObject.name=web,reason=Failed', typeOf('events'))).toHaveLength(2);
  });

  it('rejects an unsupported field with a 400 naming it', () => {
    const error = parseError('spec.foo=bar');
    expect(error.code).toBe(400);
    expect(error.reason).toBe('BadRequest');
    expect(error.message).toBe('field label not supported: spec.foo');
    expect(parseError('status.phase=Active', 'configmaps').message).toBe('field label not supported: status.phase');
  });

  it.each([
    ['metadata.name', "invalid selector: 'metadata.name'; can't understand 'metadata.name'"],
    ['metadata.name=a=b', 'invalid field selector: unescaped character in value: 61'],
    ['metadata.name=a\\x', 'invalid field selector: invalid escape sequence: \\x'],
    ['metadata.name=a\\', 'invalid field selector: invalid escape sequence: \\'],
  ])('rejects %j with %j', (text, message) => {
    expect(parseError(text).message).toBe(message);
  });
});

describe('matchesFields', () => {
  const pod = {
    metadata: { name: 'web', namespace: 'default' },
    spec: { nodeName: 'n1', restartPolicy: 'Always' },
    status: { phase: 'Running', podIP: '10.0.0.5', podIPs: [{ ip: '10.0.0.5' }] },
  };

  it.each([
    ['metadata.name=web', true],
    ['metadata.name!=web', false],
    ['spec.nodeName=n1,status.phase=Running', true],
    ['spec.nodeName=', false],
    ['spec.schedulerName=', true],
    ['status.podIP=10.0.0.5', true],
    ['spec.hostNetwork=false', true],
    ['spec.hostNetwork!=true', true],
  ])('%j on a running pod is %s', (text, expected) => {
    expect(matchesFields(parseFieldSelector(text, pods), pod)).toBe(expected);
  });

  it('reads computed fields as upstream does', () => {
    expect(selectableFieldValue({ spec: { unschedulable: true } }, 'spec.unschedulable')).toBe('true');
    expect(selectableFieldValue({}, 'spec.unschedulable')).toBe('false');
    expect(selectableFieldValue({}, 'status.replicas')).toBe('0');
    expect(selectableFieldValue({ source: { component: 'kubelet' } }, 'source')).toBe('kubelet');
    expect(selectableFieldValue({ reportingComponent: 'scheduler' }, 'source')).toBe('scheduler');
    expect(selectableFieldValue({ involvedObject: { kind: 'Pod' } }, 'involvedObject.kind')).toBe('Pod');
  });
});
