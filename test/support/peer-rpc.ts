import type { NodeProcess } from '../../src/cluster/node-process';
import { encodeMethodCall, decodeMethodResponse, PeerCallSigner, XmlRpcClient, XmlRpcFault } from '../../src/common/xmlrpc';
import type { PeerResult } from '../../src/common/protocol/peer-wire';

/**
 * Calls a test node's XML-RPC port as peer `as` would: signed with `secret` (the cluster's, or a
 * wrong one), through the production XmlRpcClient and signer.
 */
export function peerClient(target: NodeProcess, secret: string, as: string): XmlRpcClient {
  return new XmlRpcClient({ url: target.rpcUrl, timeoutMs: 10_000, signer: new PeerCallSigner(secret, as, target.spec.nodeId) });
}

/** The same, unsigned: what curl or Python's xmlrpc.client send. */
export function unsignedClient(target: NodeProcess): XmlRpcClient {
  return new XmlRpcClient({ url: target.rpcUrl, timeoutMs: 10_000 });
}

export interface RawCall {
  body: string;
  headers: Record<string, string>;
}

/** One methodCall and its signature headers for the node's run `boot` (see bootOf), to send (and send again) by hand. */
export function signedCall(target: NodeProcess, secret: string, as: string, method: string, params: unknown[], boot: string, now: () => number = Date.now): RawCall {
  const body = encodeMethodCall(method, params);
  return { body, headers: new PeerCallSigner(secret, as, target.spec.nodeId, now, boot).headers(method, Buffer.from(body, 'utf8')) };
}

/** The node's boot id (new on every start), from its open heartbeat(). */
export async function bootOf(target: NodeProcess): Promise<string> {
  return (await unsignedClient(target).call<{ boot_id: string }>('heartbeat', [])).boot_id;
}

/** POSTs a raw call; resolves with the result, or the fault as `{ faultCode, faultString }`. */
export async function postCall(target: NodeProcess, call: RawCall): Promise<unknown> {
  const res = await fetch(`${target.rpcUrl}/RPC2`, { method: 'POST', headers: { 'Content-Type': 'text/xml', ...call.headers }, body: call.body, signal: AbortSignal.timeout(10_000) });
  try {
    return decodeMethodResponse(await res.text());
  } catch (e) {
    if (e instanceof XmlRpcFault) return { faultCode: e.code, faultString: e.faultString };
    throw e;
  }
}

/** The fault a call ends in, as `{ faultCode, faultString }`; fails the test if the call succeeds. */
export async function faultOf(call: Promise<unknown>): Promise<{ faultCode: number; faultString: string }> {
  try {
    const result = await call;
    throw new Error(`expected a fault, got ${JSON.stringify(result).slice(0, 300)}`);
  } catch (e) {
    if (e instanceof XmlRpcFault) return { faultCode: e.code, faultString: e.faultString };
    throw e;
  }
}

/**
 * What a node of this version answers to `heartbeat(caller_node, caller_disk)`, for a fake peer
 * `nodeId`: it remembers the caller's disk before answering, so the answer names it (a fresh disk
 * decides it is clean only on answers that name it, from every peer).
 */
export function fakePeerHeartbeat(nodeId: string, bootId: string, params: readonly unknown[]): PeerResult<'heartbeat'> {
  const [callerNode, callerDisk] = params;
  const disks = typeof callerNode === 'string' && typeof callerDisk === 'string' ? { [callerNode]: { disk: callerDisk, replaced: null } } : {};
  return { status: 'ok', node_id: nodeId, timestamp: new Date().toISOString(), boot_id: bootId, client_url: '', disk_id: `disk-of-${nodeId}`, disks };
}
