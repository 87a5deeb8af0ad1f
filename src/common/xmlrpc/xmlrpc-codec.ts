/**
 * The XML-RPC codec: encoding by our own string writer (xmlrpc-encode.ts), decoding on saxes
 * (xmlrpc-decode.ts); both Nest-free, so src/healthcheck.ts uses them directly. This file adds
 * the one Nest-facing piece: a fault response thrown as XmlRpcFault.
 */
import { readMethodResponse } from './xmlrpc-decode';
import { XmlRpcFault } from './xmlrpc-fault';

export { decodeMethodCall, readMethodResponse, type XmlRpcMethodCall, type XmlRpcResponse } from './xmlrpc-decode';
export { encodeFault, encodeMethodCall, encodeMethodResponse } from './xmlrpc-encode';

/** Returns the result, or throws XmlRpcFault when the peer answered with a fault. */
export function decodeMethodResponse(xml: string): unknown {
  const response = readMethodResponse(xml);
  if ('fault' in response) throw new XmlRpcFault(response.fault.code, response.fault.faultString);
  return response.value;
}
