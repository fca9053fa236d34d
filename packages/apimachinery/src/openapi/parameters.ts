/**
 * The query and path parameters of the REST operations, as OpenAPI v3 parameter objects. Which
 * operation takes which parameters follows kube-apiserver; the descriptions are ours.
 */

export interface Parameter {
  readonly name: string;
  readonly in: 'query' | 'path';
  readonly description: string;
  readonly required?: true;
  readonly schema: { readonly type: 'string' | 'boolean' | 'integer'; readonly uniqueItems: true };
}

function query(name: string, type: Parameter['schema']['type'], description: string): Parameter {
  return { name, in: 'query', description, schema: { type, uniqueItems: true } };
}

function path(name: string, description: string): Parameter {
  return { name, in: 'path', description, required: true, schema: { type: 'string', uniqueItems: true } };
}

export const NAME_PARAMETER = path('name', 'name of the object');
export const NAMESPACE_PARAMETER = path('namespace', 'object name and auth scope, such as for teams and projects');
export const PRETTY_PARAMETER = query('pretty', 'string', "If 'true', the output is indented for people to read.");

export const DRY_RUN = query(
  'dryRun',
  'string',
  'When present, the request is checked, defaulted and admitted but nothing is stored. The only valid value is "All".',
);
export const FIELD_MANAGER = query(
  'fieldManager',
  'string',
  'A name for the actor making these changes, recorded in managedFields. At most 128 printable characters.',
);
export const FIELD_VALIDATION = query(
  'fieldValidation',
  'string',
  'What the server does with fields the schema does not declare and with duplicate fields: "Ignore" drops ' +
    'them silently, "Warn" drops them and answers with one warning per field, "Strict" fails the request ' +
    'with BadRequest naming every such field.',
);
const FORCE = query('force', 'boolean', 'For apply requests only: take over fields that other managers own.');

/** Parameters of the writes that take a body: create, update, patch. */
export const WRITE_PARAMETERS: readonly Parameter[] = [DRY_RUN, FIELD_MANAGER, FIELD_VALIDATION];
export const PATCH_PARAMETERS: readonly Parameter[] = [...WRITE_PARAMETERS, FORCE];

/** Parameters of list and watch. */
export const LIST_PARAMETERS: readonly Parameter[] = [
  query('allowWatchBookmarks', 'boolean', 'Ask a watch to send BOOKMARK events; the server may ignore it.'),
  query('continue', 'string', 'The continue token of the previous page of a paged list.'),
  query('fieldSelector', 'string', 'Only return objects whose fields match this selector. Defaults to everything.'),
  query('labelSelector', 'string', 'Only return objects whose labels match this selector. Defaults to everything.'),
  query('limit', 'integer', 'The largest number of objects to return; the response carries a continue token if there are more.'),
  query('resourceVersion', 'string', 'The resource version to list or watch from; see resourceVersionMatch.'),
  query('resourceVersionMatch', 'string', 'How resourceVersion applies to a list: "Exact" or "NotOlderThan".'),
  query('sendInitialEvents', 'boolean', 'Start a watch with synthetic ADDED events for the current state.'),
  query('timeoutSeconds', 'integer', 'End the list or watch call after this many seconds.'),
  query('watch', 'boolean', 'Watch for changes instead of listing, and stream them as watch events.'),
];

/** Parameters of delete and deletecollection. */
export const DELETE_PARAMETERS: readonly Parameter[] = [
  DRY_RUN,
  query('gracePeriodSeconds', 'integer', 'Seconds to wait before deleting; 0 deletes at once. Defaults to the kind\'s default.'),
  query('orphanDependents', 'boolean', 'Deprecated: use propagationPolicy. Whether dependents are orphaned.'),
  query('propagationPolicy', 'string', 'How dependents are garbage collected: "Orphan", "Background" or "Foreground".'),
];

/** Parameters of a pod's log subresource. */
export const LOG_PARAMETERS: readonly Parameter[] = [
  query('container', 'string', 'The container to read; may be omitted if the pod has one container.'),
  query('follow', 'boolean', 'Stream the log as it is written.'),
  query('insecureSkipTLSVerifyBackend', 'boolean', 'Do not verify the serving certificate of the node agent.'),
  query('limitBytes', 'integer', 'Stop after this many bytes of log.'),
  query('previous', 'boolean', 'Read the log of the previous, terminated run of the container.'),
  query('sinceSeconds', 'integer', 'Only lines written in the last this many seconds.'),
  query('sinceTime', 'string', 'Only lines written at or after this RFC 3339 time.'),
  query('tailLines', 'integer', 'Only the last this many lines.'),
  query('timestamps', 'boolean', 'Prefix each line with its RFC 3339 timestamp.'),
];

/** Parameters of a pod's attach subresource (and, with command, of exec). */
export const ATTACH_PARAMETERS: readonly Parameter[] = [
  query('container', 'string', 'The container to attach to; may be omitted if the pod has one container.'),
  query('stderr', 'boolean', "Stream the container's stderr."),
  query('stdin', 'boolean', "Stream the caller's input to the container's stdin."),
  query('stdout', 'boolean', "Stream the container's stdout."),
  query('tty', 'boolean', 'Run with a terminal; stderr then comes on stdout.'),
];

export const EXEC_PARAMETERS: readonly Parameter[] = [
  query('command', 'string', 'The command to run, one argument per command parameter; not run in a shell.'),
  ...ATTACH_PARAMETERS,
];

/** Parameters of a pod's portforward subresource. */
export const PORT_FORWARD_PARAMETERS: readonly Parameter[] = [query('ports', 'integer', 'The ports to forward; required over WebSocket.')];
