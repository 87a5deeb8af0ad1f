export { XmlRpcClient, type XmlRpcCallSigner, type XmlRpcClientOptions } from './xmlrpc.client';
export { decodeMethodCall, decodeMethodResponse, encodeFault, encodeMethodCall, encodeMethodResponse, type XmlRpcMethodCall } from './xmlrpc-codec';
export { XmlRpcEncodeError, XmlRpcParseError, XmlRpcTimeoutError, XmlRpcTransportError } from './xmlrpc-errors';
export { XmlRpcFault, XmlRpcFaultCode } from './xmlrpc-fault';
export { XmlRpcContext } from './xmlrpc.context';
export { RefusedCallFault, XMLRPC_TRANSPORT, XmlRpcServer, type CallAdmission, type XmlRpcCallAuthenticator, type XmlRpcServerOptions } from './xmlrpc.server';
export { PEER_HEADERS, PeerAuthError, PeerCallSigner, PeerCallVerifier, peerSignature, replySignature, sha256Hex, UNKNOWN_BOOT, type SignedCall } from './peer-signature';
export { PEER_BATCH_BYTES, PEER_REPLY_BYTES, XMLRPC_MAX_BODY_BYTES, xmlTextBytes } from './xmlrpc-limits';
