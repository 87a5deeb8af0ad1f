import { XmlRpcFault, XmlRpcFaultCode } from '../../common/xmlrpc';

type Kind = 'string' | 'int' | 'struct' | 'array' | 'any' | 'string?' | 'int?';

const matches = (value: unknown, kind: Kind): boolean => {
  if (kind.endsWith('?') && (value === undefined || value === null)) return true;
  switch (kind.replace('?', '')) {
    case 'any':
      return true;
    case 'string':
      return typeof value === 'string';
    case 'int':
      return Number.isInteger(value);
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
export function checkParams<T extends unknown[]>(method: string, params: unknown, kinds: Kind[]): T {
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
  return list as T;
}
