import { parseXml, type XmlElement } from './xml-tree';
import { XmlRpcParseError } from './xmlrpc-errors';
import { XmlRpcFaultCode } from './xmlrpc-fault-code';

export interface XmlRpcMethodCall {
  method: string;
  params: unknown[];
}

/** What a methodResponse carries: one value, or a fault (kept as data so Nest-free callers can read it). */
export type XmlRpcResponse = { value: unknown } | { fault: { code: number; faultString: string } };

/** Deeper than any message of ours; bounds recursion on hostile input. */
export const MAX_DEPTH = 100;
/** Each level of values is three elements (value, array/struct, data/member), under a call's four. */
const MAX_ELEMENT_DEPTH = 3 * (MAX_DEPTH + 1) + 4;

export function decodeMethodCall(xml: string): XmlRpcMethodCall {
  const root = parseXml(xml, MAX_ELEMENT_DEPTH);
  if (root.name !== 'methodCall') invalid(`expected <methodCall>, got <${root.name}>`);
  const name = child(root, 'methodName');
  if (!name || !name.text.trim()) invalid('<methodCall> has no <methodName>');
  const params = child(root, 'params');
  return { method: name.text.trim(), params: params ? decodeParams(params) : [] };
}

export function readMethodResponse(xml: string): XmlRpcResponse {
  const root = parseXml(xml, MAX_ELEMENT_DEPTH);
  if (root.name !== 'methodResponse') invalid(`expected <methodResponse>, got <${root.name}>`);
  const fault = child(root, 'fault');
  if (fault) {
    const value = child(fault, 'value');
    const struct = value ? decodeValue(value, 0) : undefined;
    const { faultCode, faultString } = (struct ?? {}) as Record<string, unknown>;
    if (typeof faultCode !== 'number') invalid('<fault> has no integer faultCode');
    return { fault: { code: faultCode, faultString: typeof faultString === 'string' ? faultString : String(faultString ?? '') } };
  }
  const params = child(root, 'params');
  const values = params ? decodeParams(params) : [];
  if (values.length !== 1) invalid(`<methodResponse> must hold exactly one <param>, got ${values.length}`);
  return { value: values[0] };
}

function decodeParams(params: XmlElement): unknown[] {
  return params.children.map((param) => {
    if (param.name !== 'param') invalid(`unexpected <${param.name}> in <params>`);
    const value = child(param, 'value');
    if (!value) invalid('<param> has no <value>');
    return decodeValue(value, 0);
  });
}

function decodeValue(value: XmlElement, depth: number): unknown {
  if (value.name !== 'value') invalid(`expected <value>, got <${value.name}>`);
  if (depth > MAX_DEPTH) invalid(`values nested deeper than ${MAX_DEPTH} levels`);
  if (value.children.length === 0) return value.text; // untyped <value>text</value> is a string
  if (value.children.length > 1) invalid('<value> holds more than one element');
  const typed = value.children[0];
  const text = typed.text;
  switch (typed.name) {
    case 'string':
      return text;
    case 'int':
    case 'i4':
    case 'i8':
      return decodeInteger(text);
    case 'boolean':
      if (text.trim() === '1') return true;
      if (text.trim() === '0') return false;
      return invalid(`<boolean> must be 0 or 1, got "${text.trim()}"`);
    case 'double':
      return decodeDouble(text);
    case 'nil':
    case 'ex:nil':
      return null;
    case 'dateTime.iso8601':
      return text.trim();
    case 'base64':
      return Buffer.from(text.replace(/\s+/g, ''), 'base64');
    case 'array': {
      const data = child(typed, 'data');
      return (data?.children ?? []).map((v) => decodeValue(v, depth + 1));
    }
    case 'struct':
      // fromEntries defines own properties, so a member named "__proto__" cannot reach the prototype.
      return Object.fromEntries(typed.children.map((member) => decodeMember(member, depth)));
    default:
      return invalid(`unknown value type <${typed.name}>`);
  }
}

function decodeMember(member: XmlElement, depth: number): [string, unknown] {
  const name = child(member, 'name');
  const value = child(member, 'value');
  if (member.name !== 'member' || !name || !value) invalid('a struct <member> needs a <name> and a <value>');
  return [name.text, decodeValue(value, depth + 1)];
}

function decodeInteger(text: string): number {
  const trimmed = text.trim();
  const parsed = Number(trimmed);
  if (!/^[+-]?\d+$/.test(trimmed) || !Number.isSafeInteger(parsed)) invalid(`"${trimmed.slice(0, 40)}" is not an integer JavaScript can hold exactly`);
  return parsed;
}

function decodeDouble(text: string): number {
  const trimmed = text.trim();
  const parsed = Number(trimmed);
  if (!/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(trimmed) || !Number.isFinite(parsed)) invalid(`"${trimmed.slice(0, 40)}" is not a double`);
  return parsed;
}

function child(parent: XmlElement, name: string): XmlElement | undefined {
  return parent.children.find((c) => c.name === name);
}

function invalid(problem: string): never {
  throw new XmlRpcParseError(`Invalid XML-RPC: ${problem}`, XmlRpcFaultCode.InvalidRequest);
}
