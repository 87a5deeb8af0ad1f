import { XmlRpcFault, XmlRpcFaultCode } from '../xmlrpc';

/** Where a room is now, as a node that refuses a stale host tells it. */
export interface CurrentHost {
  roomId: string;
  hostNode: string;
  hostEpoch: number;
  /** Higher than hostEpoch while a candidate it granted is taking the room over. */
  promisedEpoch: number;
}

/**
 * A call from a host epoch older than one the callee promised (-32409). The text names the
 * room's current host and epochs in a fixed form (parseStaleEpoch), so the caller steps down and follows.
 */
export class StaleEpochRefused extends XmlRpcFault {
  constructor(current: CurrentHost, callerEpoch: number) {
    super(
      XmlRpcFaultCode.StaleEpoch,
      `stale host epoch ${callerEpoch} for room ${current.roomId}: current host ${current.hostNode} epoch ${current.hostEpoch} promised ${current.promisedEpoch}`,
    );
  }
}

const STALE = /^stale host epoch \d+ for room (\S+): current host (\S+) epoch (\d+) promised (\d+)$/;

/** The current host named by a StaleEpochRefused fault, or null for any other error. */
export function parseStaleEpoch(e: unknown): CurrentHost | null {
  if (!(e instanceof XmlRpcFault) || e.code !== XmlRpcFaultCode.StaleEpoch) return null;
  const m = STALE.exec(e.faultString);
  return m ? { roomId: m[1], hostNode: m[2], hostEpoch: Number(m[3]), promisedEpoch: Number(m[4]) } : null;
}
