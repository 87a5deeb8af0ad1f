/**
 * The node-to-node XML-RPC interface: the reference's eleven methods (same positional params and
 * result structs, so a reference node or Python's xmlrpc.client can call us) plus our own
 * methods for replication, catch-up and forwarded deletes. See docs/protocol.md.
 */
import type { ChatMessage, MemberEvent, RoomInfo, RoomSummary } from './client-wire';

export interface MessageWire extends ChatMessage {
  client_message_id: string | null;
}

/** A host's answer to a forwarded edit or deletion: the message as it is now, and the log entry that changed it. */
export type MessageChangeResult =
  | { success: true; message: MessageWire; log_index: number }
  | { success: false; error: string; error_code: string; admin_node?: string; host_epoch?: number };

/** A host's answer to a forwarded mark_read: the user's marker now, and the entry that moved it (0: none). */
export type MarkReadResult =
  | { success: true; sequence_number: number; log_index: number }
  | { success: false; error: string; error_code: string; admin_node?: string; host_epoch?: number };

/** A host's answer to a forwarded invite_user: the entry that wrote the invitation (0: invited already). */
export type InviteUserResult =
  | { success: true; log_index: number }
  | { success: false; error: string; error_code: string; admin_node?: string; host_epoch?: number };

/** A host's answer to a forwarded moderation request: the entry that wrote it (0: already in force), and a mute's expiry. */
export type ModerateMemberResult =
  | { success: true; log_index: number; muted_until?: string }
  | { success: false; error: string; error_code: string; admin_node?: string; host_epoch?: number };

/** The founder's answer to open_direct: the pair's room exists (committed on a majority). */
export type OpenDirectResult = { success: true; room_id: string } | { success: false; error: string; error_code: string };

export interface MemberWire {
  username: string;
  node_id: string;
  joined_at: string;
}

/** A room as replicated between nodes. */
export interface RoomWire {
  room_id: string;
  room_name: string;
  description: string | null;
  creator_id: string;
  host_node: string;
  host_epoch: number;
  /** First sequence of host_epoch (absent from nodes before failover: 1). */
  epoch_start?: number;
  state: string;
  created_at: string;
  last_sequence: number;
  deletion_txn: string | null;
}

export interface HostedRoomState extends RoomWire {
  members: MemberWire[];
}

/** One message in a batched forward (forward_messages). */
export interface ForwardItem {
  room_id: string;
  username: string;
  content: string;
  client_message_id: string | null;
  /** The host epoch the sender knows (absent from nodes before failover). */
  host_epoch?: number | null;
}

export interface Vote {
  vote: 'READY' | 'ABORT';
  node_id: string;
  transaction_id: string;
  reason?: string;
}

export interface PeerMethodMap {
  // --- the reference's methods ---
  get_hosted_rooms: { params: []; result: (RoomSummary & { node_address: string })[] };
  join_room: {
    params: [room_id: string, username: string, client_node_id: string, client_node_boot_id?: string, host_epoch?: number];
    result: {
      success: boolean;
      message: string;
      error_code?: string;
      /** With ADMIN_NODE_UNAVAILABLE after a failover: the room's host now, and its epoch. */
      admin_node?: string;
      host_epoch?: number;
      room_info: RoomInfo | null;
      messages?: MessageWire[];
      creator_id?: string;
      first_sequence?: number;
      last_sequence?: number;
    };
  };
  leave_room: { params: [room_id: string, username: string, client_node_id: string]; result: { success: boolean; message: string; error_code?: string } };
  forward_message: {
    params: [room_id: string, username: string, content: string, sender_node_id: string, client_message_id?: string | null, host_epoch?: number];
    result:
      | { success: true; message_id: string; sequence_number: number; timestamp: string; duplicate?: boolean }
      | { success: false; error: string; error_code: string; admin_node?: string; host_epoch?: number };
  };
  receive_message_broadcast: { params: [room_id: string, message_data: ChatMessage]; result: boolean };
  receive_member_event_broadcast: { params: [room_id: string, event_type: string, event_data: MemberEvent]; result: boolean };
  notify_member_disconnect: {
    params: [room_id: string, username: string, member_node_id: string, reason?: string];
    result: { success: boolean; message: string };
  };
  heartbeat: {
    /** A node calling: its id and disk identity, remembered before the answer is made (an operator's probe sends none). */
    params: [caller_node?: string, caller_disk?: string];
    result: {
      status: 'ok';
      node_id: string;
      timestamp: string;
      boot_id: string;
      client_url: string;
      /** This node's disk identity, and every peer's as it remembers them (a node back with a new disk learns it was known with another). */
      disk_id?: string;
      disks?: Record<string, { disk: string; replaced: string | null }>;
      /** A hash of the node list (own id + PEER_NODES): nodes that disagree never count each other. */
      cluster_view?: string;
    };
  };
  prepare_delete_room: { params: [room_id: string, transaction_id: string, coordinator_node: string, initiator?: string, host_epoch?: number]; result: Vote };
  commit_delete_room: { params: [room_id: string, transaction_id: string, room_name?: string | null, host_epoch?: number]; result: { success: boolean; node_id: string } };
  rollback_delete_room: { params: [room_id: string, transaction_id: string, host_epoch?: number]; result: { success: boolean; node_id: string } };
  // --- ours ---
  /**
   * Rooms' log messages (Raft: appends, their answers, votes) from `from_node`, as one JSON array
   * of `[room_id, message]`; answered, once what the answers say is on disk, with the callee's
   * messages for the caller in the same form. See docs/protocol.md.
   */
  room_log_json: {
    /** from_disk: the sender's disk identity, so a late call of a data directory that was replaced is refused (a node of an earlier version omits it). */
    params: [from_node: string, batch_json: string, from_disk?: string];
    result: string;
  };
  /** Paged: call again with `next_cursor` until it is null (a node of an earlier version answers one page without it). */
  get_room_states: {
    params: [cursor?: string];
    result: { rooms: HostedRoomState[]; deleted: { room_id: string; room_name: string; transaction_id: string | null }[]; next_cursor?: string | null };
  };
  /** At most `limit` committed messages, fewer when they would not fit the reply budget (page on with the last sequence); `visible_only` is accepted for older callers (every message here is committed). */
  get_messages: {
    params: [room_id: string, after_sequence: number, before_sequence: number | null, limit: number, visible_only?: boolean];
    result: { success: boolean; messages: MessageWire[]; first_sequence: number; last_sequence: number; error_code?: string };
  };
  forward_messages: {
    params: [sender_node_id: string, items: ForwardItem[]];
    result: PeerMethodMap['forward_message']['result'][];
  };
  /** forward_messages with the items and the results as JSON strings (cheaper than structs). */
  forward_messages_json: { params: [sender_node_id: string, items_json: string]; result: string };
  delete_room: {
    params: [room_id: string, username: string, node_id: string];
    result: { success: boolean; transaction_id?: string; reason?: string; error_code?: string };
  };
  /** True when an open client connection on the called node is in some room as `username`. */
  is_username_held: { params: [username: string]; result: boolean };
  /** A member's edit of a message, forwarded to the room's host: answered once the edit's entry is committed. */
  edit_message: { params: [room_id: string, message_id: string, username: string, content: string, sender_node_id: string]; result: MessageChangeResult };
  /** A member's deletion of a message, forwarded to the room's host: answered once the deletion's entry is committed. */
  delete_message: { params: [room_id: string, message_id: string, username: string, sender_node_id: string]; result: MessageChangeResult };
  /**
   * Ephemeral: `username` (a member connected through `sender_node_id`) is typing in the room.
   * Fire and forget: the callee tells its own members; nothing is stored. Answers whether it did.
   */
  typing_notice: { params: [room_id: string, username: string, sender_node_id: string]; result: boolean };
  /**
   * A member's mark_read, forwarded to the room's host: answered once the marker's entry is
   * committed (log_index 0: the marker was already there or beyond, nothing was written).
   */
  mark_read: { params: [room_id: string, username: string, sequence_number: number, sender_node_id: string]; result: MarkReadResult };
  /** A member's invite_user, forwarded to the room's host: answered once the invitation's entry is committed. */
  invite_user: { params: [room_id: string, username: string, member: string, sender_node_id: string]; result: InviteUserResult };
  /**
   * A member's moderation request (action: add_moderator, kick, ban, unban, mute), forwarded to the
   * room's host: answered once its entry is committed. reason for kick and ban, seconds for mute.
   */
  moderate_member: {
    params: [room_id: string, username: string, action: string, member: string, sender_node_id: string, reason?: string | null, seconds?: number | null];
    result: ModerateMemberResult;
  };
  /** open_direct on a node that does not found the pair's room: the founder (directRoomFounder) creates it if nobody has. */
  open_direct: { params: [username: string, other: string, sender_node_id: string]; result: OpenDirectResult };
}

export type PeerMethod = keyof PeerMethodMap;
export type PeerParams<M extends PeerMethod> = PeerMethodMap[M]['params'];
export type PeerResult<M extends PeerMethod> = PeerMethodMap[M]['result'];

/**
 * The param in which a method names its calling node: with PEER_SECRET it must be the signer, and
 * without one it must at least be a configured peer (no per-caller state for invented ids).
 */
export const SENDER_PARAM: Partial<Record<PeerMethod, number>> = {
  join_room: 2,
  leave_room: 2,
  forward_message: 3,
  notify_member_disconnect: 2,
  prepare_delete_room: 2,
  room_log_json: 0,
  forward_messages: 0,
  forward_messages_json: 0,
  delete_room: 2,
  edit_message: 4,
  delete_message: 3,
  typing_notice: 2,
  mark_read: 3,
  invite_user: 3,
  open_direct: 2,
  moderate_member: 4,
};

/** Methods anyone may call, signed or not: the seed guide's probe and Swarm health checks use it. */
export const OPEN_METHODS: ReadonlySet<string> = new Set<PeerMethod>(['heartbeat']);
