/** Rows of the chat store, shared by the host logic, the replicas and the peer protocol. */
export type RoomState = 'ACTIVE' | 'DELETION_PENDING' | 'COMMITTING' | 'ROLLING_BACK';

export interface RoomRecord {
  roomId: string;
  roomName: string;
  description: string | null;
  creatorId: string;
  /** NODE_ID of the node that sequences this room. */
  hostNode: string;
  /** Incremented when another node takes the room over (failover). */
  hostEpoch: number;
  /** Highest epoch this node has granted (>= hostEpoch): calls from older epochs are refused. */
  promisedEpoch: number;
  /** First sequence number of hostEpoch (1 for the first epoch). */
  epochStart: number;
  /** The epoch whose host's log this copy is a prefix of; compared with lastSequence in elections. */
  logEpoch: number;
  state: RoomState;
  createdAt: string;
  /** Highest sequence number stored here; on the host, the last one assigned. */
  lastSequence: number;
  /** Transaction id of the deletion in progress, if any. */
  deletionTxn: string | null;
}

export interface MessageRecord {
  messageId: string;
  roomId: string;
  username: string;
  content: string;
  sequenceNumber: number;
  timestamp: string;
  clientMessageId: string | null;
}

export interface MemberRecord {
  roomId: string;
  username: string;
  /** Node the member's connection is on. */
  nodeId: string;
  joinedAt: string;
  /** Boot id of the member's node when it joined (on the host; null in replicas and from reference nodes). */
  bootId: string | null;
}

export interface TombstoneRecord {
  roomId: string;
  roomName: string;
  hostNode: string;
  deletedAt: string;
  transactionId: string | null;
}

export type ReplicaApplyResult = 'applied' | 'duplicate' | 'gap';

/** A room's failover fields (see RoomRecord). */
export type RoomEpochs = Pick<RoomRecord, 'hostNode' | 'hostEpoch' | 'promisedEpoch' | 'epochStart' | 'logEpoch'>;

/** A room as its host describes it to replicas: everything but this node's own sequence and epochs. */
export type RoomMeta = Omit<RoomRecord, 'lastSequence' | 'promisedEpoch' | 'epochStart' | 'logEpoch'>;
