/** A call to a node that is not in PEER_NODES. */
export class UnknownPeerError extends Error {
  constructor(nodeId: string) {
    super(`Node ${nodeId} is not in PEER_NODES`);
  }
}
