import { PEER_PARAM_KINDS, type PeerParamKind as Kind } from '../../common/protocol/peer-param-kinds';
import type { PeerMethod, PeerParams } from '../../common/protocol/peer-wire';
import { XmlRpcFault, XmlRpcFaultCode } from '../../common/xmlrpc';

const matches = (value: unknown, kind: Kind): boolean => {
  if (kind.endsWith('?') && (value === undefined || value === null)) return true;
  switch (kind.replace('?', '')) {
    case 'any':
      return true;
    case 'string':
      return typeof value === 'string';
    case 'int':
      return Number.isSafeInteger(value); // 2^53 + 1 arrives as 2^53: a number that large is no counter of ours
    case 'boolean':
      return typeof value === 'boolean';
    case 'struct':
      return typeof value === 'object' && value !== null && !Array.isArray(value);
    case 'array':
      return Array.isArray(value);
  }
  return false;
};

/**
 * Checks a method's positional params (arity and types) and answers a -32602 fault otherwise,
 * so a bad peer call is refused with a reason instead of failing somewhere deeper.
 */
export function checkParams<T extends readonly unknown[]>(method: string, params: unknown, kinds: readonly Kind[]): T {
  const list = Array.isArray(params) ? params : [];
  // an optional param may sit before a required one (get_messages), so count up to the last required
  const required = kinds.reduce((n, k, i) => (k.endsWith('?') ? n : i + 1), 0);
  if (!Array.isArray(params) || list.length < required || list.length > kinds.length) {
    throw new XmlRpcFault(XmlRpcFaultCode.InvalidParams, `${method} takes ${required === kinds.length ? required : `${required}-${kinds.length}`} parameter(s), got ${list.length}`);
  }
  list.forEach((value, i) => {
    if (!matches(value, kinds[i])) {
      throw new XmlRpcFault(XmlRpcFaultCode.InvalidParams, `${method}: parameter ${i + 1} must be ${kinds[i].replace('?', ' or nil')}`);
    }
  });
  return list as unknown as T;
}

/** A peer method's params checked against its row of PEER_PARAM_KINDS, typed as PeerMethodMap declares them. */
export function peerParams<M extends PeerMethod>(method: M, params: unknown): PeerParams<M> {
  return checkParams<PeerParams<M>>(method, params, [...PEER_PARAM_KINDS[method]] as Kind[]);
}

type Struct = Record<string, unknown>;
const isStruct = (v: unknown): v is Struct => typeof v === 'object' && v !== null && !Array.isArray(v);
const optionalString = (v: unknown) => v === undefined || v === null || typeof v === 'string';

/** The first of `keys` in `s` that is not a string, or undefined. */
const notString = (s: Struct, keys: string[]) => keys.find((k) => typeof s[k] !== 'string');

/** Why `m` is not a MessageWire (a ChatMessage, optionally with client_message_id), or null. */
export function messageWireProblem(m: unknown): string | null {
  if (!isStruct(m)) return 'message must be a struct';
  const bad = notString(m, ['message_id', 'room_id', 'username', 'content', 'timestamp']);
  if (bad) return `message.${bad} must be a string`;
  if (!Number.isSafeInteger(m.sequence_number) || (m.sequence_number as number) < 1) return 'message.sequence_number must be an integer >= 1';
  if (!optionalString(m.client_message_id)) return 'message.client_message_id must be a string or nil';
  return null;
}

/** The JSON array in a string parameter of the *_json batch methods; anything else is a -32602 fault. */
export function parseJsonArray(method: string, param: string, json: string): unknown[] {
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch {
    throw new XmlRpcFault(XmlRpcFaultCode.InvalidParams, `${method}: ${param} is not JSON`);
  }
  if (!Array.isArray(value)) throw new XmlRpcFault(XmlRpcFaultCode.InvalidParams, `${method}: ${param} must be a JSON array`);
  return value;
}
