import { RpcException } from '@nestjs/microservices';

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
  /** Signed, but the caller may not do this (e.g. replicate a room it does not host). */
  PeerNotAuthorised: -32403,
} as const;

/**
 * A fault answered by (or to be answered to) an XML-RPC peer.
 *
 * It is an RpcException whose getError() is the fault itself, so that when a
 * @MessagePattern handler throws it, Nest's RPC exception filter passes it through
 * unchanged and the transport can answer with this exact code.
 */
export class XmlRpcFault extends RpcException {
  override readonly name = 'XmlRpcFault';

  constructor(
    readonly code: number,
    readonly faultString: string,
  ) {
    super(faultString);
  }

  override getError(): object {
    return this;
  }
}
