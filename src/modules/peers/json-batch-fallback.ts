import type { Logger } from '@nestjs/common';
import type { ForwardItem } from '../../common/protocol/peer-wire';
import { XmlRpcFault, XmlRpcFaultCode } from '../../common/xmlrpc';

/** An upper bound of a forwarded item's encoded size: no character takes more than 6 bytes escaped in JSON in XML. */
export const forwardItemBytes = (item: ForwardItem) =>
  256 + item.room_id.length + item.username.length * 6 + (typeof item.content === 'string' ? item.content.length * 6 : 0) + (item.client_message_id?.length ?? 0) * 6;

/**
 * Batches travel to a peer as JSON inside XML-RPC (about ten times cheaper than structs). A peer
 * of an earlier version answers "unknown method": it gets the struct form until it restarts.
 */
export class JsonBatchFallback {
  private structsOnly = false;

  constructor(
    private readonly peer: string,
    private readonly logger: Logger,
  ) {}

  async run<T>(json: () => Promise<T>, structs: () => Promise<T>): Promise<T> {
    if (!this.structsOnly) {
      try {
        return await json();
      } catch (e) {
        if (!(e instanceof XmlRpcFault && e.code === XmlRpcFaultCode.MethodNotFound)) throw e;
        this.logger.warn(`Peer ${this.peer} does not know the JSON batch methods (an earlier version); using XML-RPC structs with it`);
        this.structsOnly = true;
      }
    }
    return structs();
  }

  /** The peer restarted (maybe upgraded): try the JSON methods again. */
  retryJson(): void {
    this.structsOnly = false;
  }
}
