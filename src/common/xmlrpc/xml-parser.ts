import { XmlRpcParseError } from './xmlrpc-errors';

/** The little XML that XML-RPC needs: elements and their text, attributes ignored. */
export interface XmlElement {
  name: string;
  children: XmlElement[];
  text: string;
}

const OPEN_TAG = /<([A-Za-z_][\w.:-]*)(?:\s+[^\s=/>]+\s*=\s*(?:"[^"<]*"|'[^'<]*'))*\s*(\/?)>/y;
const CLOSE_TAG = /<\/([A-Za-z_][\w.:-]*)\s*>/y;
const ENTITY = /&(?:#x([0-9A-Fa-f]{1,6})|#([0-9]{1,7})|(amp|lt|gt|quot|apos));/g;
const NAMED: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

/**
 * Parses a whole document into a tree. Single pass, no recursion, no DOCTYPE (so no entity
 * expansion), so hostile input costs time linear in its size and never overflows the stack.
 */
export function parseXml(xml: string): XmlElement {
  const stack: XmlElement[] = [];
  let root: XmlElement | undefined;
  let pos = xml.charCodeAt(0) === 0xfeff ? 1 : 0;

  while (pos < xml.length) {
    const lt = xml.indexOf('<', pos);
    const text = xml.slice(pos, lt === -1 ? xml.length : lt);
    if (text) appendText(stack, text, pos);
    if (lt === -1) break;
    pos = lt;

    if (xml.startsWith('<?', pos)) pos = skipPast(xml, '?>', pos);
    else if (xml.startsWith('<!--', pos)) pos = skipPast(xml, '-->', pos);
    else if (xml.startsWith('<![CDATA[', pos)) {
      const end = skipPast(xml, ']]>', pos);
      if (!stack.length) fail('CDATA outside the root element', pos);
      stack[stack.length - 1].text += xml.slice(pos + 9, end - 3);
      pos = end;
    } else if (xml.startsWith('<!', pos)) fail('DOCTYPE and declarations are not accepted', pos);
    else if (xml.startsWith('</', pos)) {
      CLOSE_TAG.lastIndex = pos;
      const m = CLOSE_TAG.exec(xml);
      const open = stack.pop();
      if (!m || !open || open.name !== m[1]) fail(`unexpected closing tag${open ? `, expected </${open.name}>` : ''}`, pos);
      pos = CLOSE_TAG.lastIndex;
    } else {
      OPEN_TAG.lastIndex = pos;
      const m = OPEN_TAG.exec(xml);
      if (!m) fail('malformed tag', pos);
      if (root && !stack.length) fail('content after the root element', pos);
      const element: XmlElement = { name: m[1], children: [], text: '' };
      if (stack.length) stack[stack.length - 1].children.push(element);
      else root = element;
      if (!m[2]) stack.push(element);
      pos = OPEN_TAG.lastIndex;
    }
  }
  if (stack.length) fail(`unclosed <${stack[stack.length - 1].name}>`, xml.length);
  if (!root) fail('no root element', 0);
  return root;
}

function appendText(stack: XmlElement[], raw: string, at: number): void {
  if (!stack.length) {
    if (raw.trim()) fail('text outside the root element', at);
    return;
  }
  // Most text has neither references nor carriage returns: nothing to rewrite.
  if (raw.indexOf('&') === -1 && raw.indexOf('\r') === -1) {
    stack[stack.length - 1].text += raw;
    return;
  }
  // XML end-of-line normalisation, then references, as a conforming parser does.
  const normalised = raw.replace(/\r\n?/g, '\n');
  if (/&(?!(?:#x[0-9A-Fa-f]{1,6}|#[0-9]{1,7}|amp|lt|gt|quot|apos);)/.test(normalised)) fail('bare "&" or unknown entity', at);
  stack[stack.length - 1].text += normalised.replace(ENTITY, (_, hex?: string, dec?: string, name?: string) => {
    if (name) return NAMED[name];
    const codePoint = hex ? parseInt(hex, 16) : Number(dec);
    if (codePoint > 0x10ffff || (codePoint >= 0xd800 && codePoint <= 0xdfff)) fail(`invalid character reference`, at);
    return String.fromCodePoint(codePoint);
  });
}

function skipPast(xml: string, terminator: string, from: number): number {
  const end = xml.indexOf(terminator, from);
  if (end === -1) fail(`unterminated construct, missing "${terminator}"`, from);
  return end + terminator.length;
}

function fail(problem: string, at: number): never {
  throw new XmlRpcParseError(`Malformed XML at offset ${at}: ${problem}`);
}
