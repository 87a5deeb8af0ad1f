/**
 * The XML-RPC kind of every positional param of every peer method, declared once beside
 * PeerMethodMap and checked against it by the compiler: handlers validate with this table instead
 * of repeating each method's kinds by hand.
 */
import type { PeerMethod, PeerParams } from './peer-wire';

/** '?' marks a param that may be missing or nil; 'any' is checked later by the service (content). */
export type PeerParamKind = 'string' | 'int' | 'boolean' | 'struct' | 'array' | 'any' | 'string?' | 'int?' | 'boolean?';

type Base<T> = [T] extends [string] ? 'string' : [T] extends [number] ? 'int' : [T] extends [boolean] ? 'boolean' : [T] extends [readonly unknown[]] ? 'array' : [T] extends [object] ? 'struct' : never;
/** The kinds a param of type T may be declared as: its own, optional when T admits undefined or null. */
type KindOf<T> = 'any' | (undefined extends T ? `${Base<NonNullable<T>>}?` : null extends T ? `${Base<NonNullable<T>>}?` : Base<T>);
type KindsOf<P extends readonly unknown[]> = { readonly [I in keyof P]-?: KindOf<P[I]> };

export const PEER_PARAM_KINDS: { readonly [M in PeerMethod]: KindsOf<PeerParams<M>> } = {
  get_hosted_rooms: [],
  join_room: ['string', 'string', 'string', 'string?', 'int?'],
  leave_room: ['string', 'string', 'string'],
  forward_message: ['string', 'string', 'any', 'string', 'string?', 'int?'],
  receive_message_broadcast: ['string', 'struct'],
  receive_member_event_broadcast: ['string', 'string', 'struct'],
  notify_member_disconnect: ['string', 'string', 'string', 'string?'],
  heartbeat: ['string?', 'string?'],
  prepare_delete_room: ['string', 'string', 'string', 'string?', 'int?'],
  commit_delete_room: ['string', 'string', 'string?', 'int?'],
  rollback_delete_room: ['string', 'string', 'int?'],
  room_log_json: ['string', 'string', 'string?'],
  get_room_states: ['string?'],
  get_messages: ['string', 'int', 'int?', 'int', 'boolean?'],
  forward_messages: ['string', 'array'],
  forward_messages_json: ['string', 'string'],
  delete_room: ['string', 'string', 'string'],
  is_username_held: ['string'],
  // content is checked by the host like a client's (INVALID_CONTENT in the result), not faulted
  edit_message: ['string', 'string', 'string', 'any', 'string'],
  delete_message: ['string', 'string', 'string', 'string'],
  typing_notice: ['string', 'string', 'string'],
  mark_read: ['string', 'string', 'int', 'string'],
  invite_user: ['string', 'string', 'string', 'string'],
  open_direct: ['string', 'string', 'string'],
  moderate_member: ['string', 'string', 'string', 'string', 'string', 'string?', 'int?'],
};
