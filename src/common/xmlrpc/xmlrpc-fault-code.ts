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
  /** Not signed with the cluster's PEER_SECRET (or a bad, stale or replayed signature, or a claimed sender that is not the signer). */
  PeerAuthRequired: -32401,
  /** Signed, but the caller may not do this (e.g. change a room only its log may change). */
  PeerNotAuthorised: -32403,
} as const;
