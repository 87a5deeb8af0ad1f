/** Rows of the chat store, shared by the host logic, the replicas and the peer protocol. */
export type RoomState = 'ACTIVE' | 'DELETION_PENDING' | 'COMMITTING' | 'ROLLING_BACK';

export interface RoomRecord {
  roomId: string;
  roomName: string;
  description: string | null;
  creatorId: string;
  /** NODE_ID of the room's host as this node last knew it (where requests for the room go). */
  hostNode: string;
  /** The epoch of that host (the room's log epoch; 1 for the node that created it). */
  hostEpoch: number;
  state: RoomState;
  createdAt: string;
  /** The last message applied here: committed, shown to members (sequence numbers have no gaps). */
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
  /** When its author last edited it (absent: never edited). */
  editedAt?: string | null;
  /** When it was deleted (absent: not deleted); a deleted message keeps its place with empty content. */
  deletedAt?: string | null;
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

/** A room's description without this node's own progress through its messages. */
export type RoomMeta = Omit<RoomRecord, 'lastSequence'>;
