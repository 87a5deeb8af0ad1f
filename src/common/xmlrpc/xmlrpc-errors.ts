import { XmlRpcFaultCode } from './xmlrpc-fault-code';

/** Input is not well-formed XML (code -32700) or not valid XML-RPC (code -32600). */
export class XmlRpcParseError extends Error {
  override readonly name = 'XmlRpcParseError';

  constructor(
    message: string,
    readonly code: number = XmlRpcFaultCode.ParseError,
  ) {
    super(message);
  }
}

/** A value XML-RPC cannot carry (e.g. a string with U+0007, NaN, a function, a cycle). */
export class XmlRpcEncodeError extends Error {
  override readonly name = 'XmlRpcEncodeError';
}

/** A call that got no usable answer: connection refused/reset, HTTP error, oversized or malformed reply. */
export class XmlRpcTransportError extends Error {
  override readonly name: string = 'XmlRpcTransportError';
}

/** A call that got no answer in time (the peer may be down, slow or black-holing packets). */
export class XmlRpcTimeoutError extends XmlRpcTransportError {
  override readonly name = 'XmlRpcTimeoutError';

  constructor(
    readonly method: string,
    readonly url: string,
    readonly timeoutMs: number,
  ) {
    super(`XML-RPC call ${method} to ${url} got no answer within ${timeoutMs} ms`);
  }
}
