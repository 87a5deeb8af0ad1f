import type { IncomingMessage } from 'node:http';
import { promisify } from 'node:util';
import { gunzip } from 'node:zlib';
import { XmlRpcFault, XmlRpcFaultCode } from './xmlrpc-fault';

const gunzipAsync = promisify(gunzip);
/**
 * Past the limit we keep reading (and dropping) this much more so that a client still sending
 * gets our fault instead of a connection reset; beyond it the socket is cut.
 */
const DRAIN_FACTOR = 8;

/** A request body too large to answer politely: the caller should close the connection. */
export class BodyTooLargeFault extends XmlRpcFault {
  constructor(limit: number, readonly drained: boolean) {
    super(XmlRpcFaultCode.InvalidRequest, `Request body is larger than ${limit} bytes; send smaller calls`);
  }
}

/**
 * Reads the (optionally gzip-encoded) body holding at most `limit` bytes in memory, before and
 * after decompression. Rejects with a fault the server can answer; rejects with the stream's own
 * error when the client went away.
 */
export async function readRequestBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const encoding = (req.headers['content-encoding'] ?? 'identity').trim().toLowerCase();
  if (encoding !== 'identity' && encoding !== 'gzip') {
    throw new XmlRpcFault(XmlRpcFaultCode.InvalidRequest, `Content-Encoding "${encoding}" is not supported; use gzip or none`);
  }
  const declared = Number(req.headers['content-length']);
  if (declared > limit * DRAIN_FACTOR) throw new BodyTooLargeFault(limit, false);

  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit * DRAIN_FACTOR) throw new BodyTooLargeFault(limit, false);
    if (size <= limit) chunks.push(chunk);
  }
  if (size > limit) throw new BodyTooLargeFault(limit, true);

  const raw = Buffer.concat(chunks, size);
  if (encoding === 'identity') return raw;
  try {
    return await gunzipAsync(raw, { maxOutputLength: limit });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') throw new BodyTooLargeFault(limit, true);
    throw new XmlRpcFault(XmlRpcFaultCode.ParseError, `Request body is not valid gzip: ${(err as Error).message}`);
  }
}
