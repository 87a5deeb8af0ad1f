import { hostUnavailable } from '../../../common/errors/chat-error';
import type { Deadlines } from './deadlines';

const CATCHING_UP = "This node has just become the room's host and a majority has not yet confirmed its first entry; retry shortly";

/** The retryable refusal of a request to a new host that has not caught up (RoomLogCore.caughtUp). */
export const catchingUpRefusal = () => hostUnavailable(CATCHING_UP);

/** Runs a request, a synchronous throw becoming a rejection. */
function attempt<T>(request: () => Promise<T>): Promise<T> {
  try {
    return request();
  } catch (e) {
    return Promise.reject(e);
  }
}

/**
 * Requests to a room's host that wait until the host has caught up (RoomLogs.serve): a node just
 * elected may not have applied everything committed before its epoch, and a host checks requests
 * (bans, mutes, rights, invitations, who is a member) against what it applied. Per room, in arrival
 * order; they run together, in one turn, when the room's host has caught up or is no longer this
 * node (the request's own checks then refuse it as they always do: not the host, the host's name),
 * or are refused retryably once the quorum timeout passed. Everything else runs at once, in the
 * caller's turn, so sends proposed in one turn keep their order.
 */
export class CatchUpWaits {
  private readonly waiting = new Map<string, (() => void)[]>();

  constructor(
    private readonly deadlines: Deadlines,
    /** When a request that starts waiting now is given up. */
    private readonly deadline: () => number,
    /** This node hosts the room and has not caught up yet. */
    private readonly catchingUp: (roomId: string) => boolean,
  ) {}

  serve<T>(roomId: string, request: () => Promise<T>): Promise<T> {
    if (!this.catchingUp(roomId)) return attempt(request);
    return new Promise<T>((resolve, reject) => {
      const list = this.waiting.get(roomId) ?? [];
      this.waiting.set(roomId, list);
      const run = () => {
        cancel();
        attempt(request).then(resolve, reject);
      };
      const cancel = this.deadlines.add(this.deadline(), () => {
        const at = list.indexOf(run);
        if (at < 0) return;
        list.splice(at, 1);
        if (list.length === 0 && this.waiting.get(roomId) === list) this.waiting.delete(roomId);
        reject(catchingUpRefusal());
      });
      list.push(run);
    });
  }

  /**
   * Something changed in the room (a write applied entries, its role changed, its core was
   * dropped): the requests waiting run, oldest first, unless its host still catches up. In a
   * microtask: not inside the writer's round that told us.
   */
  check(roomId: string): void {
    if (!this.waiting.has(roomId)) return;
    queueMicrotask(() => {
      const list = this.waiting.get(roomId);
      if (!list || this.catchingUp(roomId)) return;
      this.waiting.delete(roomId);
      for (const run of list.splice(0)) run();
    });
  }
}
