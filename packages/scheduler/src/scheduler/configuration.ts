/**
 * KubeSchedulerConfiguration (kubescheduler.config.k8s.io/v1), the part k8ts-scheduler reads:
 * profiles (schedulerName, plugins, pluginConfig, percentageOfNodesToScore), the scheduler-wide
 * percentageOfNodesToScore, and the pod backoff bounds. Every profile gets the default plugins
 * merged under what it sets, as upstream defaults the file.
 */
import { parse } from 'yaml';
import { profileWithDefaults, type PluginConfig, type Plugins, type Profile } from '../runtime/profile.js';

export const CONFIGURATION_API_VERSION = 'kubescheduler.config.k8s.io/v1';

export interface SchedulerConfiguration {
  readonly profiles: readonly Profile[];
  /** For profiles that set none; 0 = adaptive. */
  readonly percentageOfNodesToScore: number;
  readonly podInitialBackoffMs: number;
  readonly podMaxBackoffMs: number;
}

/** The configuration of a file's text; no text = the defaults (one default-scheduler profile). */
export function parseSchedulerConfiguration(text?: string): SchedulerConfiguration {
  const document: unknown = text === undefined ? {} : parse(text);
  if (typeof document !== 'object' || document === null || Array.isArray(document)) throw new Error('scheduler configuration: expected a YAML mapping');
  const config = document as Record<string, unknown>;
  if (text !== undefined) {
    if (config['apiVersion'] !== CONFIGURATION_API_VERSION) {
      throw new Error(`scheduler configuration: apiVersion must be ${CONFIGURATION_API_VERSION}, got ${String(config['apiVersion'])}`);
    }
    if (config['kind'] !== 'KubeSchedulerConfiguration') throw new Error(`scheduler configuration: kind must be KubeSchedulerConfiguration, got ${String(config['kind'])}`);
  }
  const percentage = optionalNumber(config, 'percentageOfNodesToScore', 0, 0, 100);
  const initialSeconds = optionalNumber(config, 'podInitialBackoffSeconds', 1, 1, Number.MAX_SAFE_INTEGER);
  const maxSeconds = optionalNumber(config, 'podMaxBackoffSeconds', 10, 1, Number.MAX_SAFE_INTEGER);
  if (maxSeconds < initialSeconds) throw new Error('scheduler configuration: podMaxBackoffSeconds must be greater than or equal to podInitialBackoffSeconds');
  const rawProfiles = config['profiles'] ?? [{}];
  if (!Array.isArray(rawProfiles) || rawProfiles.length === 0) throw new Error('scheduler configuration: profiles must be a non-empty list');
  const profiles = rawProfiles.map((raw, index) => parseProfile(raw, index));
  const names = new Set<string>();
  profiles.forEach((profile, index) => {
    if (names.has(profile.schedulerName)) throw new Error(`scheduler configuration: profiles[${index}].schedulerName: Duplicate value: "${profile.schedulerName}"`);
    names.add(profile.schedulerName);
  });
  return { profiles, percentageOfNodesToScore: percentage, podInitialBackoffMs: initialSeconds * 1000, podMaxBackoffMs: maxSeconds * 1000 };
}

function parseProfile(raw: unknown, index: number): Profile {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new Error(`scheduler configuration: profiles[${index}] must be a mapping`);
  const fields = raw as Record<string, unknown>;
  const partial: { -readonly [K in keyof Profile]?: Profile[K] } = {};
  if (fields['schedulerName'] !== undefined) {
    if (typeof fields['schedulerName'] !== 'string' || fields['schedulerName'] === '') throw new Error(`scheduler configuration: profiles[${index}].schedulerName must be a non-empty string`);
    partial.schedulerName = fields['schedulerName'];
  }
  if (fields['plugins'] !== undefined) partial.plugins = fields['plugins'] as Plugins;
  if (fields['pluginConfig'] !== undefined) {
    if (!Array.isArray(fields['pluginConfig'])) throw new Error(`scheduler configuration: profiles[${index}].pluginConfig must be a list`);
    partial.pluginConfig = (fields['pluginConfig'] as Array<Record<string, unknown>>).map((entry) => ({
      name: String(entry['name']),
      args: withoutTypeFields((entry['args'] ?? {}) as Record<string, unknown>),
    })) satisfies PluginConfig[];
  }
  if (fields['percentageOfNodesToScore'] !== undefined) {
    partial.percentageOfNodesToScore = optionalNumber(fields, 'percentageOfNodesToScore', 0, 0, 100, `profiles[${index}].`);
  }
  return profileWithDefaults(partial);
}

/** Plugin args in a file carry apiVersion/kind (e.g. NodeResourcesFitArgs); the plugins take the rest. */
function withoutTypeFields(args: Record<string, unknown>): Record<string, unknown> {
  const { apiVersion: _apiVersion, kind: _kind, ...rest } = args;
  return rest;
}

/** `path`: where the field sits, for the message ("profiles[1]."). */
function optionalNumber(fields: Record<string, unknown>, name: string, fallback: number, min: number, max: number, path = ''): number {
  const value = fields[name];
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new Error(`scheduler configuration: ${path}${name}: Invalid value: ${JSON.stringify(value)}: not in valid range [${min}-${max}]`);
  }
  return value;
}
