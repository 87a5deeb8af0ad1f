/** The largest request body a node accepts from a peer (before and after gzip). */
export const XMLRPC_MAX_BODY_BYTES = 1024 * 1024;

/**
 * What one peer call or reply may carry, leaving room under the body limit for the XML
 * envelope and for estimates that round down.
 */
export const PEER_BATCH_BYTES = 256 * 1024;
export const PEER_REPLY_BYTES = 512 * 1024;

/**
 * The bytes `text` takes inside an XML-RPC `<string>`: its UTF-8 length plus what escaping
 * `&`, `<`, `>` and `\r` adds (the codec writes them as entities).
 */
export function xmlTextBytes(text: string): number {
  const bytes = Buffer.byteLength(text, 'utf8');
  // most text has nothing to escape; regexes scan natively, far faster than a loop over characters
  if (!NEEDS_ESCAPE.test(text)) return bytes;
  let extra = 0;
  for (const [c] of text.matchAll(ESCAPED)) extra += c === '&' || c === '\r' ? 4 : 3; // &amp; &#xD; | &lt; &gt;
  return bytes + extra;
}

const NEEDS_ESCAPE = /[&<>\r]/;
const ESCAPED = /[&<>\r]/g;
