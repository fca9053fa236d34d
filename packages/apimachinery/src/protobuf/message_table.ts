/** One package's messages: message name → its fields, one line per field (see schema.ts). */
export type MessageTable = Readonly<Record<string, string>>;
