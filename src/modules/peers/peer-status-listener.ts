/** Reacts to peers going down, coming (back) up, or restarting with a new boot id. */
export interface PeerStatusListener {
  onPeerFailed?(nodeId: string): void;
  onPeerReachable?(nodeId: string): void;
  onPeerRestarted?(nodeId: string): void;
  /** Silent for FAILOVER_TIMEOUT (the failover probe; sooner than onPeerFailed with default settings). */
  onPeerSuspected?(nodeId: string): void;
  /** A suspected peer answers again. */
  onPeerAnswering?(nodeId: string): void;
  /** A heartbeat or probe answer said which disk the peer remembers for this node (NodeDisk.memoryOf). */
  onPeerIdentified?(nodeId: string): void;
}
