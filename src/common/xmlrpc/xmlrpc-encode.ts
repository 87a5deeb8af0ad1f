import CustomType from 'xmlrpc/lib/customtype';
import { serializeFault, serializeMethodCall, serializeMethodResponse } from 'xmlrpc/lib/serializer';
import { MAX_DEPTH } from './xmlrpc-decode';
import { XmlRpcEncodeError } from './xmlrpc-errors';
import { XmlRpcFaultCode } from './xmlrpc-fault-code';

const INT32_MIN = -(2 ** 31);
const INT32_MAX = 2 ** 31 - 1;
const I8_MIN = -(2n ** 63n);
const I8_MAX = 2n ** 63n - 1n;
/** Anything outside XML 1.0's Char production, including lone surrogates. */
const NOT_XML_CHAR = /[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/u;

/** `<tag>raw</tag>` through the package's serializer, raw escaped as element text. */
class Scalar extends CustomType {
  constructor(tag: string, raw: string) {
    super(raw);
    this.tagName = tag;
  }
}

/*
 * The package's serializer walks values without recursion and escapes through xmlbuilder, but it
 * writes every integer as <int>, NaN as <double>NaN</double>, undefined and functions as an empty
 * <value/>, lets lone surrogates through, and puts text with "<" or "&" in CDATA, where "\r" is
 * lost and a second "]]>" breaks out of the section. So every value passes `toWire` first, which
 * refuses what XML-RPC cannot carry and hands the serializer only values it writes correctly.
 */

export function encodeMethodCall(method: string, params: readonly unknown[]): string {
  checkText(method);
  const seen = { emptyString: false };
  return expandEmptyStrings(serializeMethodCall(method, params.map((p) => toWire(p, 0, seen))), seen);
}

export function encodeMethodResponse(value: unknown): string {
  const seen = { emptyString: false };
  return expandEmptyStrings(serializeMethodResponse(toWire(value, 0, seen)), seen);
}

/** Never throws: characters XML cannot carry are replaced, since a fault must always go out. */
export function encodeFault(code: number, message: string): string {
  const faultString = message.replace(new RegExp(NOT_XML_CHAR.source, 'gu'), '\uFFFD');
  const faultCode = Number.isInteger(code) && code >= INT32_MIN && code <= INT32_MAX ? code : XmlRpcFaultCode.ApplicationError;
  return serializeFault({ faultCode, faultString: new Scalar('string', faultString) });
}

interface Seen {
  emptyString: boolean;
}

/** xmlbuilder writes '' as <string/>; the open and close form keeps a string's size its text plus a fixed tag (xmlTextBytes relies on that). */
function expandEmptyStrings(xml: string, seen: Seen): string {
  return seen.emptyString ? xml.replaceAll('<string/>', '<string></string>') : xml;
}

function toWire(value: unknown, depth: number, seen: Seen): unknown {
  if (depth > MAX_DEPTH) throw new XmlRpcEncodeError(`Cannot encode a value nested deeper than ${MAX_DEPTH} levels (a cycle?)`);
  switch (typeof value) {
    case 'string':
      if (!value) seen.emptyString = true;
      return new Scalar('string', checkText(value));
    case 'boolean':
      return value;
    case 'number':
      if (!Number.isFinite(value)) throw new XmlRpcEncodeError(`Cannot encode ${value}: XML-RPC doubles must be finite`);
      if (Number.isInteger(value) && value >= INT32_MIN && value <= INT32_MAX) return value;
      return new Scalar(Number.isSafeInteger(value) ? 'i8' : 'double', String(value));
    case 'bigint':
      if (value < I8_MIN || value > I8_MAX) throw new XmlRpcEncodeError(`Cannot encode ${value}: outside the 64-bit range of <i8>`);
      return new Scalar('i8', String(value));
    case 'undefined':
      return null;
    case 'object':
      return objectToWire(value, depth, seen);
    default:
      throw new XmlRpcEncodeError(`Cannot encode a ${typeof value} as XML-RPC`);
  }
}

function objectToWire(value: object | null, depth: number, seen: Seen): unknown {
  if (value === null) return null;
  if (Array.isArray(value)) return value.map((v) => toWire(v, depth + 1, seen));
  if (value instanceof Uint8Array) return Buffer.from(value.buffer, value.byteOffset, value.byteLength);
  if (value instanceof Date) return new Scalar('dateTime.iso8601', formatDateTime(value));
  if (value instanceof Map || value instanceof Set) throw new XmlRpcEncodeError(`Cannot encode a ${value.constructor.name}: use a plain object or an array`);
  const struct: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    // defineProperty, so a member named "__proto__" stays a member.
    if (v !== undefined) Object.defineProperty(struct, checkText(k), { value: toWire(v, depth + 1, seen), enumerable: true, writable: true, configurable: true });
  }
  return struct;
}

/** Refuses characters no XML 1.0 parser accepts instead of emitting invalid XML. */
function checkText(text: string): string {
  const bad = NOT_XML_CHAR.exec(text);
  if (bad) {
    const hex = bad[0].codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0');
    throw new XmlRpcEncodeError(`Cannot encode a string containing U+${hex}: XML 1.0 cannot carry that character`);
  }
  return text;
}

/** The XML-RPC spec's form (Python's xmlrpc.client parses exactly this), in UTC. */
function formatDateTime(date: Date): string {
  if (Number.isNaN(date.getTime())) throw new XmlRpcEncodeError('Cannot encode an invalid Date');
  return date.toISOString().replace(/-/g, '').slice(0, 17);
}
