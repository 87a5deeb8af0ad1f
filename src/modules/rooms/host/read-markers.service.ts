import { Injectable } from '@nestjs/common';
import { Clock } from '../../../common/clock/clock';
import { ChatError } from '../../../common/errors/chat-error';
import { MemberRepository } from '../../../common/store/member.repository';
import { ReadMarkerRepository } from '../../../common/store/read-marker.repository';
import { READ_MARKER, type ReadMarkerData } from '../replication/room-entries';
import { RoomLogs } from '../replication/room-logs.service';
import { RoomHostService } from './room-host.service';

/** A user's read marker after a mark_read, and the entry that moved it (0: nothing was written). */
export interface ReadMark {
  sequence: number;
  logIndex: number;
}

/**
 * What a room's host does for a mark_read: decides from what every node applied whether the marker
 * moves at all, and writes a read_marker entry only when it does, so a client that marks every
 * message it shows (or several tabs marking the same one) costs the log nothing after the first.
 * Marks of one user in one room that arrive while an entry for them is being committed join it
 * when it reaches as far (one entry for a burst). Serves local clients and peers (HostPeerRequests).
 */
@Injectable()
export class ReadMarkers {
  /** Per room and user: the marker entry being committed now, and how far it moves the marker. */
  private readonly inFlight = new Map<string, { sequence: number; done: Promise<ReadMark> }>();

  constructor(
    private readonly host: RoomHostService,
    private readonly members: MemberRepository,
    private readonly markers: ReadMarkerRepository,
    private readonly clock: Clock,
    private readonly logs: RoomLogs,
  ) {}

  /** Decided inside RoomLogs.serve: a host just elected waits until it applied what was committed before it. */
  mark(roomId: string, username: string, sequence: number): Promise<ReadMark> {
    return this.logs.serve(roomId, () => this.markNow(roomId, username, sequence));
  }

  private async markNow(roomId: string, username: string, sequence: number): Promise<ReadMark> {
    const room = this.host.activeHostedRoom(roomId);
    if (!this.members.getMember(roomId, username)) throw new ChatError('NOT_MEMBER', 'You are not a member of this room');
    // nobody has read past the room's last message: a higher number marks everything read
    const target = Math.min(sequence, room.lastSequence);
    const key = `${roomId}\u0000${username}`;
    const pending = this.inFlight.get(key);
    if (pending && pending.sequence >= target) return pending.done;
    const current = this.markers.lastRead(roomId, username);
    if (target <= current) return { sequence: current, logIndex: 0 };
    const data: ReadMarkerData = { username, sequence_number: target, read_at: this.clock.iso() };
    const done = this.logs.propose(roomId, { kind: READ_MARKER, data }).then(({ entry }) => ({ sequence: this.markers.lastRead(roomId, username), logIndex: entry.index }));
    this.inFlight.set(key, { sequence: target, done });
    const forget = () => {
      if (this.inFlight.get(key)?.done === done) this.inFlight.delete(key);
    };
    done.then(forget, forget);
    return done;
  }
}
