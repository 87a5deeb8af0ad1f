import type { DatabaseSync, StatementSync } from 'node:sqlite';
import type { MemberRecord } from './chat-records';
import { memberKey, toMember, type Row } from './store-rows';
import type { StoreTransactions } from './store-transactions';

/** The members table: who is in each room, and through which node (and that node's run). */
export class MemberRepository {
  private readonly sql: Record<string, StatementSync>;
  /** Membership is checked on every send: cached lookups, dropped on any membership change. */
  private readonly lookups = new Map<string, MemberRecord | null>();

  constructor(
    db: DatabaseSync,
    private readonly tx: StoreTransactions,
  ) {
    const p = (s: string) => db.prepare(s);
    this.sql = {
      addMember: p(`INSERT INTO members (room_id, username, node_id, joined_at, boot_id) VALUES (?, ?, ?, ?, ?)
      ON CONFLICT(room_id, username) DO UPDATE SET node_id = excluded.node_id, boot_id = excluded.boot_id`),
      getMember: p('SELECT * FROM members WHERE room_id = ? AND username = ?'),
      removeMember: p('DELETE FROM members WHERE room_id = ? AND username = ?'),
      members: p('SELECT * FROM members WHERE room_id = ? ORDER BY joined_at, username'),
      memberCount: p('SELECT count(*) AS n FROM members WHERE room_id = ?'),
      membersOnNode: p(`SELECT m.* FROM members m JOIN rooms r ON r.room_id = m.room_id
      WHERE m.node_id = ? AND r.host_node = ? ORDER BY m.room_id, m.username`),
      clearMembers: p('DELETE FROM members WHERE room_id = ?'),
      nodesOfUsername: p('SELECT DISTINCT node_id FROM members WHERE username = ?'),
    };
    tx.onRollback(() => this.lookups.clear());
  }

  /** Adds (or moves to `nodeId`) a member; true when the username was not a member before. */
  addMember(roomId: string, username: string, nodeId: string, joinedAt: string, bootId: string | null = null): boolean {
    return this.tx.run(() => {
      const existed = this.sql.getMember.get(roomId, username) !== undefined;
      this.sql.addMember.run(roomId, username, nodeId, joinedAt, bootId);
      this.lookups.delete(memberKey(roomId, username));
      return !existed;
    });
  }
  removeMember(roomId: string, username: string): boolean {
    this.lookups.delete(memberKey(roomId, username));
    return this.tx.run(() => Number(this.sql.removeMember.run(roomId, username).changes) > 0);
  }
  getMember(roomId: string, username: string): MemberRecord | null {
    const key = memberKey(roomId, username);
    let member = this.lookups.get(key);
    if (member === undefined) {
      const row = this.sql.getMember.get(roomId, username) as Row | undefined;
      member = row ? toMember(row) : null;
      this.lookups.set(key, member);
    }
    return member ? { ...member } : null;
  }
  listMembers(roomId: string): MemberRecord[] {
    return (this.sql.members.all(roomId) as Row[]).map(toMember);
  }
  memberCount(roomId: string): number {
    return Number((this.sql.memberCount.get(roomId) as Row).n);
  }
  /** Members connected through `nodeId` in rooms hosted by `hostNode`. */
  membersOnNode(nodeId: string, hostNode: string): MemberRecord[] {
    return (this.sql.membersOnNode.all(nodeId, hostNode) as Row[]).map(toMember);
  }
  /** The nodes `username` is a member through, in any room this node knows (hosted or replica). */
  memberNodesOf(username: string): string[] {
    return (this.sql.nodesOfUsername.all(username) as Row[]).map((r) => String(r.node_id));
  }
  replaceMembers(roomId: string, members: readonly MemberRecord[]): void {
    this.tx.run(() => {
      this.drop(roomId);
      for (const m of members) this.sql.addMember.run(roomId, m.username, m.nodeId, m.joinedAt, m.bootId ?? null);
    });
  }

  /** The room's members go (all of them: replaceMembers, and TombstoneRepository.deleteRoom in its transaction). */
  drop(roomId: string): void {
    this.sql.clearMembers.run(roomId);
    this.lookups.clear();
  }
}
