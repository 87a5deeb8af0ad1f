import { MAX_DEPTH } from './xmlrpc-decode';
import { XmlRpcEncodeError } from './xmlrpc-errors';
import { XmlRpcFaultCode } from './xmlrpc-fault-code';

/*
 * Our own XML-RPC writer (the previous release's, with the guards added since): every document is
 * one string built by appending, with no node objects per element. It refuses what XML-RPC cannot
 * carry instead of writing something a peer would read differently: integers beyond 64 bits,
 * NaN and Infinity, functions and symbols, Maps and Sets, characters outside XML 1.0 (lone
 * surrogates included), values nested deeper than MAX_DEPTH (a cycle). Text is always escaped
 * element content, never CDATA, and "\r" is written as a character reference so the receiver's
 * end-of-line normalisation cannot turn it into "\n".
 */

const INT32_MIN = -(2 ** 31);
const INT32_MAX = 2 ** 31 - 1;
const I8_MIN = -(2n ** 63n);
const I8_MAX = 2n ** 63n - 1n;
/** Anything outside XML 1.0's Char production, including lone surrogates. */
const NOT_XML_CHAR = /[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/u;
const NOT_XML_CHARS = new RegExp(NOT_XML_CHAR.source, 'gu');
const MARKUP = /[&<>\r]/;
const MARKUP_ALL = /[&<>\r]/g;
const PROLOG = '<?xml version="1.0"?>';

export function encodeMethodCall(method: string, params: readonly unknown[]): string {
  let out = `${PROLOG}<methodCall><methodName>${escapeText(method)}</methodName>`;
  if (params.length === 0) return `${out}<params/></methodCall>`;
  out += '<params>';
  for (let i = 0; i < params.length; i++) out = encodeValue(out + '<param>', params[i], 0) + '</param>';
  return `${out}</params></methodCall>`;
}

export function encodeMethodResponse(value: unknown): string {
  return `${encodeValue(`${PROLOG}<methodResponse><params><param>`, value, 0)}</param></params></methodResponse>`;
}

/** Never throws: characters XML cannot carry are replaced, since a fault must always go out. */
export function encodeFault(code: number, message: string): string {
  const faultCode = Number.isInteger(code) && code >= INT32_MIN && code <= INT32_MAX ? code : XmlRpcFaultCode.ApplicationError;
  const faultString = escapeMarkup(message.replace(NOT_XML_CHARS, '\uFFFD'));
  return (
    `${PROLOG}<methodResponse><fault><value><struct>` +
    `<member><name>faultCode</name><value><int>${faultCode}</int></value></member>` +
    `<member><name>faultString</name><value><string>${faultString}</string></value></member>` +
    '</struct></value></fault></methodResponse>'
  );
}

/** Appends `<value>...</value>` for `value` to `out`. */
function encodeValue(out: string, value: unknown, depth: number): string {
  if (depth > MAX_DEPTH) throw new XmlRpcEncodeError(`Cannot encode a value nested deeper than ${MAX_DEPTH} levels (a cycle?)`);
  switch (typeof value) {
    case 'string':
      // Open and close form even when empty: a string's size is its text plus a fixed tag (xmlTextBytes relies on that).
      return `${out}<value><string>${escapeText(value)}</string></value>`;
    case 'boolean':
      return out + (value ? '<value><boolean>1</boolean></value>' : '<value><boolean>0</boolean></value>');
    case 'number':
      if (!Number.isFinite(value)) throw new XmlRpcEncodeError(`Cannot encode ${value}: XML-RPC doubles must be finite`);
      if (Number.isInteger(value) && value >= INT32_MIN && value <= INT32_MAX) return `${out}<value><int>${value}</int></value>`;
      if (Number.isSafeInteger(value)) return `${out}<value><i8>${value}</i8></value>`;
      return `${out}<value><double>${value}</double></value>`;
    case 'bigint':
      if (value < I8_MIN || value > I8_MAX) throw new XmlRpcEncodeError(`Cannot encode ${value}: outside the 64-bit range of <i8>`);
      return `${out}<value><i8>${value}</i8></value>`;
    case 'undefined':
      return `${out}<value><nil/></value>`;
    case 'object':
      return encodeObject(out, value, depth);
    default:
      throw new XmlRpcEncodeError(`Cannot encode a ${typeof value} as XML-RPC`);
  }
}

function encodeObject(out: string, value: object | null, depth: number): string {
  if (value === null) return `${out}<value><nil/></value>`;
  if (Array.isArray(value)) {
    if (value.length === 0) return `${out}<value><array><data/></array></value>`;
    out += '<value><array><data>';
    for (let i = 0; i < value.length; i++) out = encodeValue(out, value[i], depth + 1);
    return `${out}</data></array></value>`;
  }
  if (value instanceof Uint8Array) return `${out}<value><base64>${Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('base64')}</base64></value>`;
  if (value instanceof Date) return `${out}<value><dateTime.iso8601>${formatDateTime(value)}</dateTime.iso8601></value>`;
  if (value instanceof Map || value instanceof Set) throw new XmlRpcEncodeError(`Cannot encode a ${value.constructor.name}: use a plain object or an array`);
  let members = '';
  // Own enumerable string keys, as Object.entries: a member named "__proto__" stays a member.
  for (const key of Object.keys(value)) {
    const v = (value as Record<string, unknown>)[key];
    if (v !== undefined) members = encodeValue(`${members}<member><name>${escapeText(key)}</name>`, v, depth + 1) + '</member>';
  }
  return members ? `${out}<value><struct>${members}</struct></value>` : `${out}<value><struct/></value>`;
}

/** Escapes markup; refuses characters no XML 1.0 parser accepts instead of emitting invalid XML. */
function escapeText(text: string): string {
  const bad = NOT_XML_CHAR.exec(text);
  if (bad) {
    const hex = bad[0].codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0');
    throw new XmlRpcEncodeError(`Cannot encode a string containing U+${hex}: XML 1.0 cannot carry that character`);
  }
  return escapeMarkup(text);
}

/** `&`, `<`, `>` as entities; `\r` as a character reference so it survives end-of-line normalisation. */
function escapeMarkup(text: string): string {
  return MARKUP.test(text) ? text.replace(MARKUP_ALL, escapeChar) : text;
}

function escapeChar(c: string): string {
  return c === '&' ? '&amp;' : c === '<' ? '&lt;' : c === '>' ? '&gt;' : '&#xD;';
}

/** The XML-RPC spec's form (Python's xmlrpc.client parses exactly this), in UTC. */
function formatDateTime(date: Date): string {
  if (Number.isNaN(date.getTime())) throw new XmlRpcEncodeError('Cannot encode an invalid Date');
  return date.toISOString().replace(/-/g, '').slice(0, 17);
}
