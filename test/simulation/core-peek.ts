import type { Entry } from '../../src/modules/rooms/consensus/log-entry';
import type { RaftLog } from '../../src/modules/rooms/consensus/raft-log';
import type { RoomLogCore } from '../../src/modules/rooms/consensus/room-log-core';

/**
 * The entry a core holds at `index`, stored or not yet: the leader-completeness checker reads a new
 * host's whole log at the moment it wins, which no public output shows. Test code only.
 */
export const entryInCore = (core: RoomLogCore, index: number): Entry | undefined => (core as unknown as { log: RaftLog }).log.entry(index);
