import { SaxesParser } from 'saxes';
import { XmlRpcParseError } from './xmlrpc-errors';
import { XmlRpcFaultCode } from './xmlrpc-fault-code';

/** The little XML that XML-RPC needs: elements and their text, attributes ignored. */
export interface XmlElement {
  name: string;
  children: XmlElement[];
  text: string;
}

/**
 * Parses a whole document into a tree with saxes (strict, non-recursive, no entity expansion).
 * A DOCTYPE is refused outright: XML-RPC has no use for one and it is where entity bombs live.
 * Elements nested deeper than `maxDepth` are checked for well-formedness but not kept, so hostile
 * nesting costs no tree; the document is then refused as not XML-RPC (-32600), as a malformed one
 * would have been refused first (-32700).
 */
export function parseXml(xml: string, maxDepth = Infinity): XmlElement {
  const parser = new SaxesParser({ position: false });
  const stack: XmlElement[] = [];
  let root: XmlElement | undefined;
  let unkeptDepth = 0;
  let tooDeep = false;
  const appendText = (text: string) => {
    if (stack.length && !unkeptDepth) stack[stack.length - 1].text += text;
  };
  parser.on('error', (err) => fail(err.message));
  parser.on('doctype', () => fail('DOCTYPE and declarations are not accepted'));
  parser.on('text', appendText);
  parser.on('cdata', appendText);
  parser.on('opentag', (tag) => {
    if (unkeptDepth || stack.length >= maxDepth) {
      unkeptDepth++;
      tooDeep = true;
      return;
    }
    const element: XmlElement = { name: tag.name, children: [], text: '' };
    if (stack.length) stack[stack.length - 1].children.push(element);
    else root = element;
    stack.push(element);
  });
  // saxes closes self-closing tags too
  parser.on('closetag', () => (unkeptDepth ? unkeptDepth-- : stack.pop()));
  parser.write(xml).close();
  if (tooDeep) throw new XmlRpcParseError(`Invalid XML-RPC: elements nested deeper than ${maxDepth} levels`, XmlRpcFaultCode.InvalidRequest);
  if (!root) fail('no root element');
  return root;
}

function fail(problem: string): never {
  throw new XmlRpcParseError(`Malformed XML: ${problem.replace(/\.$/, '')}`);
}
