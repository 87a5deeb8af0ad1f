import type { Logger } from '@nestjs/common';
import type { ForwardItem } from '../../common/protocol/peer-wire';
import { XmlRpcFault, XmlRpcFaultCode } from '../../common/xmlrpc';

/** An upper bound of a forwarded item's encoded size: no character takes more than 6 bytes escaped in JSON in XML. */
export const forwardItemBytes = (item: ForwardItem) =>
  256 + item.room_id.length + item.username.length * 6 + (typeof item.content === 'string' ? item.content.length * 6 : 0) + (item.client_message_id?.length ?? 0) * 6;

/** "unknown method": the peer predates a method (the JSON batch methods). */
export const unknownMethod = (e: unknown) => e instanceof XmlRpcFault && e.code === XmlRpcFaultCode.MethodNotFound;

/** "takes N parameter(s), got M": the peer predates a trailing optional param (the caller's disk in `heartbeat` and `room_log_json`). */
export const tooManyParams = (e: unknown) => e instanceof XmlRpcFault && e.code === XmlRpcFaultCode.InvalidParams && / takes [\d-]+ parameter\(s\), got \d+$/.test(e.faultString);

/**
 * One thing an earlier version of a peer does not understand (during a rolling update): the call
 * is made the current way until the peer refuses it the way an earlier version does, then the
 * earlier way until the peer restarts (it may have been upgraded). Any other failure reaches the
 * caller as it is.
 */
export class EarlierVersionFallback {
  private earlier = false;

  constructor(
    private readonly peer: string,
    private readonly logger: Logger,
    /** How an earlier version refuses the current form. */
    private readonly refusesCurrent: (e: unknown) => boolean,
    /** Said once in the warning: "Peer node2 <what> (an earlier version)". */
    private readonly what: string,
  ) {}

  async run<T>(current: () => Promise<T>, earlier: () => Promise<T>): Promise<T> {
    if (!this.earlier) {
      try {
        return await current();
      } catch (e) {
        if (!this.refusesCurrent(e)) throw e;
        this.logger.warn(`Peer ${this.peer} ${this.what} (an earlier version)`);
        this.earlier = true;
      }
    }
    return earlier();
  }

  /** The peer restarted (maybe upgraded): try the current form again. */
  retryCurrent(): void {
    this.earlier = false;
  }
}
