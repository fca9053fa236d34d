/**
 * Kubernetes protobuf (`application/vnd.kubernetes.protobuf`) request bodies decoded to the JSON objects
 * the same client would send as JSON, for the kinds we serve. See decode.ts for the promises.
 */
export {
  decodeKubernetesProtobuf,
  decodeProtobufMessage,
  hasKubernetesProtobufMagic,
  protobufMessageFor,
  KUBERNETES_PROTOBUF_CONTENT_TYPE,
  KUBERNETES_PROTOBUF_MAGIC,
  UNKNOWN_PROTOBUF_FIELDS_MAX,
  type DecodedProtobufObject,
} from './decode.js';
export { ProtobufDecodeError } from './wire.js';
export { builtInMessages, parseMessageTables, type FieldSpec, type MessageSpec, type MessageTable } from './schema.js';
