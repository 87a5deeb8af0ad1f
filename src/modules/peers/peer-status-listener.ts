/** Reacts to peers going down, coming (back) up, or restarting with a new boot id. */
export interface PeerStatusListener {
  onPeerFailed?(nodeId: string): void;
  onPeerReachable?(nodeId: string): void;
  onPeerRestarted?(nodeId: string): void;
  /** Silent for FAILOVER_TIMEOUT (the failover probe; sooner than onPeerFailed with default settings). */
  onPeerSuspected?(nodeId: string): void;
  /** A suspected peer answers again. */
  onPeerAnswering?(nodeId: string): void;
}
