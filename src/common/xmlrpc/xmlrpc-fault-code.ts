/** Fault codes of the XML-RPC interop spec (specs.xmlrpc.com "fault code interoperability"). */
export const XmlRpcFaultCode = {
  /** The body is not well-formed XML (or not valid gzip). */
  ParseError: -32700,
  /** Well-formed, but not a methodCall; or a bad HTTP method/path; or a body over the limit. */
  InvalidRequest: -32600,
  MethodNotFound: -32601,
  InvalidParams: -32602,
  /** The handler failed or its result could not be encoded. */
  ApplicationError: -32500,
} as const;
