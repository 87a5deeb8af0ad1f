// What the parts of one session share: who we are, the rooms we are in, the clock, the wire, the UI.

import type { Frame, RequestFrame } from '../protocol';
import type { Expectation } from './pending-requests';
import type { RoomState } from './room-state';
import type { SessionEvent } from './session-events';
import type { Timers } from './timers';

export interface SessionContext {
  readonly username: string;
  readonly rooms: Map<string, RoomState>;
  readonly timers: Timers;
  /** Tells the UI; a rendering bug cannot break the session. */
  emit(ev: SessionEvent): void;
  /** True while connected, i.e. frames can be sent. */
  isOpen(): boolean;
  /** Sends without waiting for a reply; false if not connected. */
  send(frame: RequestFrame): boolean;
  request(frame: RequestFrame, expect: Expectation): Promise<Frame>;
}

export type MarkGone = (room: RoomState, status: 'deleted' | 'removed', text: string | null) => void;
