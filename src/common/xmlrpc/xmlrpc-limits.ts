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
  let extra = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 38) extra += 4; // &amp;
    else if (c === 60 || c === 62) extra += 3; // &lt; &gt;
    else if (c === 13) extra += 4; // &#xD;
  }
  return Buffer.byteLength(text, 'utf8') + extra;
}
