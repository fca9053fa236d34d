/**
 * OpenAPI v3 for the API server: the component schemas generated from `kubernetes-types`, the
 * /openapi/v3 index and per-group-version documents kubectl reads (`explain`, and `apply`'s check that
 * the server validates fields itself), and the unknown-field check behind `fieldValidation`.
 */
export {
  SCHEMA_REF_PREFIX,
  gvkKey,
  resolveSchema,
  schemaNameOf,
  schemaSetFrom,
  servedSchemas,
  type GroupVersionKind,
  type Schema,
  type SchemaSet,
} from './schemas.js';
export { UNKNOWN_FIELDS_MAX, strictDecodingMessage, unknownFieldWarning, unknownFields } from './field_validation.js';
export { TypedDecodeError, decodeAsTyped, goUnmarshalKind, jsonKind, type TypedDecodeOptions } from './typed_decode.js';
export {
  documentHash,
  openApiV3Document,
  openApiV3Entry,
  openApiV3Paths,
  type OpenApiDocument,
  type OpenApiV3Entry,
  type OpenApiV3Paths,
} from './documents.js';
export type { Action, Operation, PathItem } from './operations.js';
export type { Parameter } from './parameters.js';
