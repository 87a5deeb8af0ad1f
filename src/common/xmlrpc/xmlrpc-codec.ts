import { parseXml, type XmlElement } from './xml-parser';
import { XmlRpcEncodeError, XmlRpcParseError } from './xmlrpc-errors';
import { XmlRpcFault, XmlRpcFaultCode } from './xmlrpc-fault';

export interface XmlRpcMethodCall {
  method: string;
  params: unknown[];
}

/** Deeper than any message of ours; bounds recursion on hostile input and catches cycles. */
const MAX_DEPTH = 100;
const INT32_MIN = -(2 ** 31);
const INT32_MAX = 2 ** 31 - 1;
const I8_MIN = -(2n ** 63n);
const I8_MAX = 2n ** 63n - 1n;
/** Anything outside XML 1.0's Char production, including lone surrogates. */
const NOT_XML_CHAR = /[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/u;
const PROLOGUE = '<?xml version="1.0" encoding="UTF-8"?>\n';

export function encodeMethodCall(method: string, params: readonly unknown[]): string {
  return `${PROLOGUE}<methodCall><methodName>${escapeText(method)}</methodName><params>${encodeParams(params)}</params></methodCall>\n`;
}

export function encodeMethodResponse(value: unknown): string {
  return `${PROLOGUE}<methodResponse><params>${encodeParams([value])}</params></methodResponse>\n`;
}

/** Never throws: characters XML cannot carry are replaced, since a fault must always go out. */
export function encodeFault(code: number, message: string): string {
  const safe = message.replace(new RegExp(NOT_XML_CHAR.source, 'gu'), '\uFFFD');
  const struct = { faultCode: Number.isSafeInteger(code) ? code : XmlRpcFaultCode.ApplicationError, faultString: safe };
  return `${PROLOGUE}<methodResponse><fault>${encodeValue(struct, 0)}</fault></methodResponse>\n`;
}

export function decodeMethodCall(xml: string): XmlRpcMethodCall {
  const root = parseXml(xml);
  if (root.name !== 'methodCall') invalid(`expected <methodCall>, got <${root.name}>`);
  const name = child(root, 'methodName');
  if (!name || !name.text.trim()) invalid('<methodCall> has no <methodName>');
  const params = child(root, 'params');
  return { method: name.text.trim(), params: params ? decodeParams(params) : [] };
}

/** Returns the result, or throws XmlRpcFault when the peer answered with a fault. */
export function decodeMethodResponse(xml: string): unknown {
  const root = parseXml(xml);
  if (root.name !== 'methodResponse') invalid(`expected <methodResponse>, got <${root.name}>`);
  const fault = child(root, 'fault');
  if (fault) {
    const value = child(fault, 'value');
    const struct = value ? decodeValue(value, 0) : undefined;
    const { faultCode, faultString } = (struct ?? {}) as Record<string, unknown>;
    if (typeof faultCode !== 'number') invalid('<fault> has no integer faultCode');
    return throwFault(faultCode, typeof faultString === 'string' ? faultString : String(faultString ?? ''));
  }
  const params = child(root, 'params');
  const values = params ? decodeParams(params) : [];
  if (values.length !== 1) invalid(`<methodResponse> must hold exactly one <param>, got ${values.length}`);
  return values[0];
}

function throwFault(code: number, message: string): never {
  throw new XmlRpcFault(code, message);
}

function encodeParams(params: readonly unknown[]): string {
  return params.map((p) => `<param>${encodeValue(p, 0)}</param>`).join('');
}

function encodeValue(value: unknown, depth: number): string {
  if (depth > MAX_DEPTH) throw new XmlRpcEncodeError(`Cannot encode a value nested deeper than ${MAX_DEPTH} levels (a cycle?)`);
  return `<value>${encodeInner(value, depth)}</value>`;
}

function encodeInner(value: unknown, depth: number): string {
  switch (typeof value) {
    case 'string':
      return `<string>${escapeText(value)}</string>`;
    case 'boolean':
      return `<boolean>${value ? 1 : 0}</boolean>`;
    case 'number':
      if (!Number.isFinite(value)) throw new XmlRpcEncodeError(`Cannot encode ${value}: XML-RPC doubles must be finite`);
      if (Number.isInteger(value) && value >= INT32_MIN && value <= INT32_MAX) return `<int>${value}</int>`;
      if (Number.isSafeInteger(value)) return `<i8>${value}</i8>`;
      return `<double>${value}</double>`;
    case 'bigint':
      if (value < I8_MIN || value > I8_MAX) throw new XmlRpcEncodeError(`Cannot encode ${value}: outside the 64-bit range of <i8>`);
      return `<i8>${value}</i8>`;
    case 'undefined':
      return '<nil/>';
    case 'object':
      return encodeObject(value, depth);
    default:
      throw new XmlRpcEncodeError(`Cannot encode a ${typeof value} as XML-RPC`);
  }
}

function encodeObject(value: object | null, depth: number): string {
  if (value === null) return '<nil/>';
  if (Array.isArray(value)) return `<array><data>${value.map((v) => encodeValue(v, depth + 1)).join('')}</data></array>`;
  if (value instanceof Uint8Array) return `<base64>${Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('base64')}</base64>`;
  if (value instanceof Date) return `<dateTime.iso8601>${formatDateTime(value)}</dateTime.iso8601>`;
  if (value instanceof Map || value instanceof Set) throw new XmlRpcEncodeError(`Cannot encode a ${value.constructor.name}: use a plain object or an array`);
  const members = Object.entries(value)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `<member><name>${escapeText(k)}</name>${encodeValue(v, depth + 1)}</member>`);
  return `<struct>${members.join('')}</struct>`;
}

/** Escapes markup; refuses characters no XML 1.0 parser accepts instead of emitting invalid XML. */
function escapeText(text: string): string {
  const bad = NOT_XML_CHAR.exec(text);
  if (bad) {
    const hex = bad[0].codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0');
    throw new XmlRpcEncodeError(`Cannot encode a string containing U+${hex}: XML 1.0 cannot carry that character`);
  }
  // \r is escaped so that it survives the receiver's end-of-line normalisation.
  return text.replace(/[&<>\r]/g, (c) => (c === '&' ? '&amp;' : c === '<' ? '&lt;' : c === '>' ? '&gt;' : '&#13;'));
}

/** The XML-RPC spec's form (Python's xmlrpc.client parses exactly this), in UTC. */
function formatDateTime(date: Date): string {
  if (Number.isNaN(date.getTime())) throw new XmlRpcEncodeError('Cannot encode an invalid Date');
  return date.toISOString().replace(/-/g, '').slice(0, 17);
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
