import { request as httpRequest } from 'node:http';
import { type ApiServerProcess, startApiOverStore, type TestCluster } from '@k8ts/testkit';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';

/**
 * Bad input gets kube-apiserver's answer (code, reason, message), never a 500 or a hang, and
 * leaves nothing half-written. Raw HTTP through node:http, so malformed paths and bodies reach the
 * server as sent; one apiserver process over a real store member.
 */
let store: TestCluster;
let api: ApiServerProcess;

beforeAll(async () => {
  ({ store, api } = await startApiOverStore());
}, 60_000);

afterAll(async () => {
  await api?.stop();
  await store?.stop();
});

interface Answer {
  code: number;
  contentType: string;
  text: string;
}

/** One raw request; resolves with the whole answer (a hang fails the test by its timeout). */
function send(method: string, path: string, body?: Buffer | string, contentType?: string): Promise<Answer> {
  const url = new URL(api.url);
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      {
        host: url.hostname,
        port: url.port,
        method,
        path,
        headers: { ...(contentType === undefined ? {} : { 'Content-Type': contentType }), ...(body === undefined ? {} : { 'Content-Length': Buffer.byteLength(body) }) },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => resolve({ code: res.statusCode ?? 0, contentType: res.headers['content-type'] ?? '', text: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

function status(answer: Answer): { code: number; reason?: string | undefined; message?: string | undefined } {
  expect(answer.contentType, answer.text).toBe('application/json');
  const parsed = JSON.parse(answer.text) as { kind: string; code: number; reason?: string; message?: string };
  expect(parsed.kind).toBe('Status');
  expect(parsed.code).toBe(answer.code);
  return { code: parsed.code, reason: parsed.reason, message: parsed.message };
}

const configMaps = '/api/v1/namespaces/default/configmaps';
const configMap = (name: string, data: Record<string, string> = { key: 'value' }): string =>
  JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name }, data });

async function listConfigMaps(): Promise<unknown[]> {
  const answer = await send('GET', configMaps);
  expect(answer.code).toBe(200);
  return (JSON.parse(answer.text) as { items: { metadata: { name: string; resourceVersion: string; uid: string }; data?: unknown }[] }).items.map((item) => ({
    name: item.metadata.name,
    uid: item.metadata.uid,
    resourceVersion: item.metadata.resourceVersion,
    data: item.data,
  }));
}

describe('bad input', () => {
  test('every malformed request gets kube-apiserver answer; the server stays up and nothing is half-written', async () => {
    expect((await send('POST', configMaps, configMap('existing'), 'application/json')).code).toBe(201);
    const before = await listConfigMaps();
    const badRequest = (message: string): object => ({ code: 400, reason: 'BadRequest', message });

    // A non-numeric resourceVersion: the storage layer's 400, for a list and before a watch starts.
    expect(status(await send('GET', `${configMaps}?resourceVersion=abc`))).toEqual(badRequest('invalid resource version: strconv.ParseUint: parsing "abc": invalid syntax'));
    expect(status(await send('GET', `${configMaps}?watch=true&resourceVersion=abc`))).toEqual(
      badRequest('invalid resource version: strconv.ParseUint: parsing "abc": invalid syntax'),
    );
    expect(status(await send('GET', `${configMaps}/existing?resourceVersion=1e3`))).toEqual(badRequest('invalid resource version: strconv.ParseUint: parsing "1e3": invalid syntax'));
    expect(status(await send('GET', `${configMaps}?watch=true&resourceVersion=-1`))).toEqual(badRequest('invalid resource version: strconv.ParseUint: parsing "-1": invalid syntax'));

    // Malformed percent-encoding: Go's net/http refuses the request target in plain text.
    const malformed = await send('GET', `${configMaps}/%zz`);
    expect({ code: malformed.code, contentType: malformed.contentType, text: malformed.text }).toEqual({
      code: 400,
      contentType: 'text/plain; charset=utf-8',
      text: '400 Bad Request',
    });
    expect((await send('POST', `${configMaps}/a%2`, configMap('a'), 'application/json')).code).toBe(400);

    // An encoded slash separates segments as a plain one does: no name with a slash.
    expect(status(await send('GET', `${configMaps}/existing%2Fextra`))).toMatchObject({ code: 404, reason: 'NotFound' });
    expect(status(await send('PUT', `${configMaps}/existing%2Fextra`, configMap('existing/extra'), 'application/json'))).toMatchObject({ code: 404, reason: 'NotFound' });
    expect((await send('GET', `/api/v1/namespaces/default%2Fconfigmaps%2Fexisting`)).code).toBe(200);

    // Integers in ListOptions and DeleteOptions: strconv.ParseInt's error as a 400.
    expect(status(await send('GET', `${configMaps}?limit=abc`))).toEqual(badRequest('strconv.ParseInt: parsing "abc": invalid syntax'));
    expect(status(await send('GET', `${configMaps}?limit=1.5`))).toEqual(badRequest('strconv.ParseInt: parsing "1.5": invalid syntax'));
    expect(status(await send('GET', `${configMaps}?timeoutSeconds=soon`))).toEqual(badRequest('strconv.ParseInt: parsing "soon": invalid syntax'));
    expect(status(await send('GET', `${configMaps}?watch=1&timeoutSeconds=soon`))).toEqual(badRequest('strconv.ParseInt: parsing "soon": invalid syntax'));
    expect(status(await send('DELETE', `${configMaps}/existing?gracePeriodSeconds=abc`))).toEqual(badRequest('strconv.ParseInt: parsing "abc": invalid syntax'));
    expect(status(await send('DELETE', `${configMaps}/existing`, JSON.stringify({ gracePeriodSeconds: 'abc' }), 'application/json'))).toEqual(
      badRequest('json: cannot unmarshal string into Go struct field DeleteOptions.gracePeriodSeconds of type int64'),
    );
    expect(status(await send('DELETE', `${configMaps}?labelSelector=none&limit=x`))).toEqual(badRequest('strconv.ParseInt: parsing "x": invalid syntax'));
    // A negative limit is no limit; a negative watch timeout ends the watch at once (kube's timer fires).
    const unlimited = await send('GET', `${configMaps}?limit=-1`);
    expect(unlimited.code).toBe(200);
    expect((JSON.parse(unlimited.text) as { items: unknown[] }).items).toHaveLength(before.length);
    expect(await send('GET', `${configMaps}?watch=true&timeoutSeconds=-1`)).toEqual({ code: 200, contentType: 'application/json', text: '' });

    // Wrong content types: 415 with the media types the endpoint accepts.
    expect(status(await send('POST', configMaps, configMap('plain'), 'text/plain'))).toEqual({
      code: 415,
      reason: 'UnsupportedMediaType',
      message: 'the body of the request was in an unknown format - accepted media types include: application/json, application/yaml, application/vnd.kubernetes.protobuf',
    });
    expect(status(await send('PUT', `${configMaps}/existing`, configMap('existing'), 'application/merge-patch+json'))).toMatchObject({ code: 415, reason: 'UnsupportedMediaType' });
    expect(status(await send('PATCH', `${configMaps}/existing`, '{"data":{"key":"patched"}}', 'application/json'))).toEqual({
      code: 415,
      reason: 'UnsupportedMediaType',
      message:
        'the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/strategic-merge-patch+json, application/apply-patch+yaml',
    });

    // A DELETE's body is DeleteOptions: the same 415 for a media type no decoder takes.
    expect(status(await send('DELETE', `${configMaps}/existing`, '{}', 'text/plain'))).toMatchObject({ code: 415, reason: 'UnsupportedMediaType' });
    expect(status(await send('DELETE', `${configMaps}?labelSelector=none`, '{}', 'text/plain'))).toMatchObject({ code: 415, reason: 'UnsupportedMediaType' });

    // PodLogOptions are validated before the pod is looked up: 422 Invalid.
    const logs = '/api/v1/namespaces/default/pods/absent/log';
    expect(status(await send('GET', `${logs}?tailLines=-1`))).toEqual({
      code: 422,
      reason: 'Invalid',
      message: 'PodLogOptions "absent" is invalid: tailLines: Invalid value: -1: must be greater than or equal to 0',
    });
    expect(status(await send('GET', `${logs}?limitBytes=0&sinceSeconds=0`))).toEqual({
      code: 422,
      reason: 'Invalid',
      message: 'PodLogOptions "absent" is invalid: [limitBytes: Invalid value: 0: must be greater than 0, sinceSeconds: Invalid value: 0: must be greater than 0]',
    });
    expect(status(await send('GET', `${logs}?sinceSeconds=5&sinceTime=2026-01-01T00:00:00Z`)).message).toBe(
      'PodLogOptions "absent" is invalid: : Forbidden: at most one of `sinceTime` or `sinceSeconds` may be specified',
    );

    // Truncated bodies: 400 in the shape of kube's transformDecodeError.
    const full = configMap('truncated');
    expect(status(await send('POST', configMaps, full.slice(0, full.length - 10), 'application/json'))).toEqual(
      badRequest(`the object provided is unrecognized (decoding ${full.slice(0, 30)} ...): couldn't get version/kind; json parse error: unexpected end of JSON input`),
    );
    const yaml = await send('POST', configMaps, 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: "trunc', 'application/yaml');
    expect(status(yaml)).toMatchObject({ code: 400, reason: 'BadRequest' });
    expect(status(yaml).message).toMatch(/^the object provided is unrecognized \(decoding [0-9a-f]{60} \.\.\.\): error converting YAML to JSON: yaml: /);
    const protobuf = Buffer.from([0x6b, 0x38, 0x73, 0x00, 0x0a, 0x0a, 0x0a, 0x02, 0x76, 0x31]);
    expect(status(await send('POST', configMaps, protobuf, 'application/vnd.kubernetes.protobuf'))).toEqual(
      badRequest('the object provided is unrecognized (decoding 6b3873000a0a0a027631): unexpected EOF'),
    );
    expect(status(await send('POST', configMaps, '{"data":', 'application/merge-patch+json'))).toMatchObject({ code: 415 });
    // Truncated patches: the patch handler's own 400s.
    expect(status(await send('PATCH', `${configMaps}/existing`, '{"data":', 'application/merge-patch+json'))).toEqual(badRequest('Invalid JSON Patch'));
    expect(status(await send('PATCH', `${configMaps}/existing`, '{"data":', 'application/strategic-merge-patch+json'))).toEqual(badRequest('unexpected end of JSON input'));
    expect(status(await send('PATCH', `${configMaps}/existing`, '[{"op":"add","path":"/data/x"', 'application/json-patch+json'))).toEqual(badRequest('unexpected end of JSON input'));
    const apply = status(await send('PATCH', `${configMaps}/existing?fieldManager=test`, 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: "exis', 'application/apply-patch+yaml'));
    expect(apply).toMatchObject({ code: 400, reason: 'BadRequest' });
    expect(apply.message).toMatch(/^error decoding YAML: error converting YAML to JSON: yaml: /);

    // Too large for the store (1.5 MiB by default) but under the apiserver's 3 MiB body limit: 413, not a retryable 504.
    // (Labels, as upstream's TestObjectSizeResponses does: a ConfigMap's data is capped at 1 MiB by validation.)
    const labels = Object.fromEntries(Array.from({ length: 22_000 }, (_, i) => [`label-${i}`, 'v'.repeat(60)]));
    const big = (name: string): string => JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, labels }, data: { key: 'value' } });
    expect(Buffer.byteLength(big('big'))).toBeLessThan(3_145_728);
    expect(status(await send('POST', configMaps, big('big'), 'application/json'))).toEqual({ code: 413, reason: 'RequestEntityTooLarge', message: 'Request entity too large: limit is 3145728' });
    expect(status(await send('PUT', `${configMaps}/existing`, big('existing'), 'application/json'))).toMatchObject({
      code: 413,
      reason: 'RequestEntityTooLarge',
    });
    // Over the apiserver's own limit.
    expect(status(await send('POST', configMaps, configMap('huge', { blob: 'x'.repeat(3_200_000) }), 'application/json'))).toMatchObject({ code: 413, reason: 'RequestEntityTooLarge' });

    // Still up, and nothing was written by any of it.
    const ready = await send('GET', '/readyz');
    expect(ready.code).toBe(200);
    expect(await listConfigMaps()).toEqual(before);
  }, 60_000);

  test('continue tokens are read as storage.DecodeContinue reads them: a bad one is a 400, and none ranges outside its collection', async () => {
    const token = (fields: object): string => encodeURIComponent(Buffer.from(JSON.stringify(fields)).toString('base64url'));
    const v = 'meta.k8s.io/v1';
    const list = async (continueToken: string): Promise<{ code: number; reason?: string | undefined; message?: string | undefined; names?: string[] }> => {
      const answer = await send('GET', `${configMaps}?limit=50&continue=${continueToken}`);
      if (answer.code !== 200) return status(answer);
      return { code: 200, names: (JSON.parse(answer.text) as { items: { metadata: { name: string } }[] }).items.map((item) => item.metadata.name) };
    };
    const invalid = (detail: string): object => ({ code: 400, reason: 'BadRequest', message: `invalid continue token: continue key is not valid${detail}` });
    for (const name of ['page-a', 'page-b']) expect((await send('POST', configMaps, configMap(name), 'application/json')).code).toBe(201);
    const secret = JSON.stringify({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'beside' }, stringData: { password: 'hunter2' } });
    expect((await send('POST', '/api/v1/namespaces/default/secrets', secret, 'application/json')).code).toBe(201);

    expect(await list(token({ v, rv: 0, start: 'page-a' }))).toEqual(invalid(': incorrect encoded start resourceVersion (version meta.k8s.io/v1)'));
    expect(await list(token({ v, rv: 5 }))).toEqual(invalid(': encoded start key empty (version meta.k8s.io/v1)'));
    expect(await list(token({ v, rv: 5, start: '' }))).toEqual(invalid(': encoded start key empty (version meta.k8s.io/v1)'));
    // A key path.Clean would change: refused, so no token reaches another collection's keys.
    for (const start of ['../x', 'a/../../b', '../../secrets/default/', 'page-a/', './page-a', 'a//b']) {
      expect(await list(token({ v, rv: 5, start }))).toEqual(invalid(`: ${start}`));
    }
    expect(await list(token({ v: 'k8ts.io/v1', rv: 5, start: 'page-a' }))).toEqual(invalid(': server does not recognize this encoded version k8ts.io/v1'));
    expect(await list(token({ v, rv: 'five', start: 'page-a' }))).toEqual(invalid(': json: cannot unmarshal string into Go struct field continueToken.rv of type int64'));
    expect(await list(token({ v, rv: 1.5, start: 'page-a' }))).toEqual(invalid(': json: cannot unmarshal number 1.5 into Go struct field continueToken.rv of type int64'));
    expect(await list(token({ v, rv: 5, start: 7 }))).toEqual(invalid(': json: cannot unmarshal number into Go struct field continueToken.start of type string'));
    expect(await list(encodeURIComponent(Buffer.from('"text"').toString('base64url')))).toEqual(invalid(': json: cannot unmarshal string into Go value of type storage.continueToken'));
    expect(await list(encodeURIComponent(Buffer.from('{"v":').toString('base64url')))).toEqual(invalid(': unexpected end of JSON input'));
    expect(await list(encodeURIComponent(Buffer.from('xyz').toString('base64url')))).toEqual(invalid(": invalid character 'x' looking for beginning of value"));
    // Go's base64.RawURLEncoding: padding and characters outside the alphabet are refused where they stand.
    expect(await list(encodeURIComponent(`${Buffer.from('{}').toString('base64url')}=`))).toEqual(invalid(': illegal base64 data at input byte 3'));
    expect(await list('ab%2Bcd')).toEqual(invalid(': illegal base64 data at input byte 2'));
    expect(await list('abcde')).toEqual(invalid(': illegal base64 data at input byte 4'));

    // A clean key is the collection's prefix + the key: the list goes on from there (inclusive),
    // and a negative revision reads the current state, as upstream.
    expect(await list(token({ v, rv: -1, start: 'page-a' }))).toEqual({ code: 200, names: ['page-a', 'page-b'] });
    expect(await list(token({ v, rv: -1, start: '/page-b' }))).toEqual({ code: 200, names: ['page-b'] });
    expect(await list(token({ v, rv: -1, start: 'secrets' }))).toEqual({ code: 200, names: [] });
  });

  test("fieldValidation=Strict answers a body's unknown fields before its type errors; Warn lets the type error answer", async () => {
    const body = JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'typed' }, data: { a: 1 }, dataa: {} });
    const cannot = 'ConfigMap in version "v1" cannot be handled as a ConfigMap: ';
    expect(status(await send('POST', `${configMaps}?fieldValidation=Strict`, body, 'application/json'))).toEqual({
      code: 400,
      reason: 'BadRequest',
      message: `${cannot}strict decoding error: unknown field "dataa"`,
    });
    for (const validation of ['Warn', 'Ignore']) {
      expect(status(await send('POST', `${configMaps}?fieldValidation=${validation}`, body, 'application/json'))).toEqual({
        code: 400,
        reason: 'BadRequest',
        message: `${cannot}json: cannot unmarshal number into Go struct field ConfigMap.data of type string`,
      });
    }
    const pod = JSON.stringify({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'typed' },
      spec: { containers: [{ name: 'a', image: 'busybox' }, { name: 'b', image: 5, imagee: 'x' }], hostNetwork: 'yes' },
    });
    expect(status(await send('PUT', '/api/v1/namespaces/default/pods/typed?fieldValidation=Strict', pod, 'application/json')).message).toBe(
      'Pod in version "v1" cannot be handled as a Pod: strict decoding error: unknown field "spec.containers[1].imagee"',
    );
    expect(status(await send('PUT', '/api/v1/namespaces/default/pods/typed', pod, 'application/json')).message).toBe(
      'Pod in version "v1" cannot be handled as a Pod: json: cannot unmarshal number into Go struct field Container.spec.containers.image of type string',
    );
  });

  test('a negative gracePeriodSeconds is read as 1s, as rest.BeforeDelete does', async () => {
    const pods = '/api/v1/namespaces/default/pods';
    const pod = JSON.stringify({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'negative-grace' },
      spec: { nodeName: 'node-1', terminationGracePeriodSeconds: 30, containers: [{ name: 'app', image: 'busybox' }] },
    });
    expect((await send('POST', pods, pod, 'application/json')).code).toBe(201);
    const marked = await send('DELETE', `${pods}/negative-grace?gracePeriodSeconds=-5`);
    expect(marked.code).toBe(200);
    expect((JSON.parse(marked.text) as { metadata: { deletionGracePeriodSeconds: number } }).metadata.deletionGracePeriodSeconds).toBe(1);
    expect((await send('DELETE', `${pods}/negative-grace?gracePeriodSeconds=0`)).code).toBe(200);
  });
});
