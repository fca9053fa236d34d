import type { ConfigMap, DownwardAPIVolumeFile, KeyToPath, Pod, Secret } from 'kubernetes-types/core/v1.js';
import { containerResourceValue, metadataFieldValue, type Allocatable } from '../container/downward_api.js';
import type { FileProjection } from './atomic_writer.js';

/**
 * The files of configMap, secret and downwardAPI volumes (and of the same sources inside a projected
 * volume), as upstream's MakePayload / CollectData: every key, or only the listed `items` at their
 * paths; modes from the item, else the volume's defaultMode (0644).
 */

export const DEFAULT_MODE = 0o644;

export function configMapPayload(configMap: ConfigMap, items: readonly KeyToPath[] | undefined, defaultMode: number, optional: boolean): Map<string, FileProjection> {
  const data = new Map<string, Uint8Array>();
  for (const [key, value] of Object.entries(configMap.data ?? {})) data.set(key, Buffer.from(value, 'utf8'));
  for (const [key, value] of Object.entries(configMap.binaryData ?? {})) data.set(key, Buffer.from(value, 'base64'));
  return keyedPayload(data, items, defaultMode, optional, (key) => `configmap references non-existent config key: ${key}`);
}

export function secretPayload(secret: Secret, items: readonly KeyToPath[] | undefined, defaultMode: number, optional: boolean): Map<string, FileProjection> {
  const data = new Map<string, Uint8Array>();
  for (const [key, value] of Object.entries(secret.data ?? {})) data.set(key, Buffer.from(value, 'base64'));
  return keyedPayload(data, items, defaultMode, optional, (key) => `references non-existent secret key: ${key}`);
}

function keyedPayload(
  data: ReadonlyMap<string, Uint8Array>,
  items: readonly KeyToPath[] | undefined,
  defaultMode: number,
  optional: boolean,
  missing: (key: string) => string,
): Map<string, FileProjection> {
  const payload = new Map<string, FileProjection>();
  if (items === undefined || items.length === 0) {
    for (const [key, value] of data) payload.set(key, { data: value, mode: defaultMode });
    return payload;
  }
  for (const item of items) {
    const value = data.get(item.key);
    if (value === undefined) {
      if (optional) continue;
      throw new Error(missing(item.key));
    }
    payload.set(item.path, { data: value, mode: item.mode ?? defaultMode });
  }
  return payload;
}

/** downwardAPI files: metadata fields (labels and annotations included) and container resources. */
export function downwardAPIPayload(pod: Pod, items: readonly DownwardAPIVolumeFile[], defaultMode: number, allocatable: Allocatable): Map<string, FileProjection> {
  const payload = new Map<string, FileProjection>();
  const errors: string[] = [];
  for (const item of items) {
    try {
      let value = '';
      if (item.fieldRef !== undefined) value = metadataFieldValue(item.fieldRef.fieldPath, pod);
      else if (item.resourceFieldRef !== undefined) {
        const name = item.resourceFieldRef.containerName ?? '';
        const container = [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])].find((candidate) => candidate.name === name);
        if (container === undefined) throw new Error(`container ${name} not found`);
        value = containerResourceValue(item.resourceFieldRef, container, allocatable);
      }
      payload.set(item.path, { data: Buffer.from(value, 'utf8'), mode: item.mode ?? defaultMode });
    } catch (error) {
      errors.push(error instanceof Error ? error.message : String(error));
    }
  }
  if (errors.length === 1) throw new Error(errors[0]);
  if (errors.length > 1) throw new Error(`[${errors.join(', ')}]`);
  return payload;
}
