import { Inject, Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { Clock } from '../../common/clock/clock';
import { NODE_CONFIG, type NodeConfig } from '../../common/config/node-config';
import { PeerAuthenticator } from './peer-authenticator';
import { PeerDirectory } from './peer-directory';
import { WakeTimer } from './wake-timer';

/** First re-probe of a peer that is not up; the delay doubles up to HEARTBEAT_INTERVAL. */
const FIRST_REPROBE_MS = 1000;
/**
 * Failover probes per FAILOVER_TIMEOUT of silence. A probe that fails is sent again at once (once),
 * so a single lost probe never makes a peer suspected; a peer whose answer comes more than half the
 * timeout late is. Each probe costs both nodes a signed HTTP exchange: on an idle cluster they are
 * nearly all of its CPU, which is why there are not more.
 */
const PROBES_PER_TIMEOUT = 2;
/**
 * A peer that keeps showing life on its own (its signed heartbeats to this node, its room-log
 * messages) is probed only once it has been quiet for this many probe gaps: of two nodes, the one
 * that probes first keeps probing and the other listens, so a pair's link costs one call per gap
 * instead of two. Above 1, so the two never settle probing in step.
 */
const LISTENING_GAPS = 1.5;

type CallKind = 'round' | 'reprobe' | 'probe';

/** What this node plans for one peer. */
interface Plan {
  nodeId: string;
  /** The next regular heartbeat, the only call whose miss counts towards FAILED. */
  roundAt: number;
  /** While the peer is not up: the next re-probe and the backoff after it. */
  reprobe: { at: number; delayMs: number } | null;
  /** When this node last called the peer (the failover probes' gap counts from it). */
  calledAt: number;
  /** Probe at the next wake, listening or not: the last probe failed, or the peer signed a call for another run of this node (one of the two restarted). */
  soon: boolean;
  /** The last probe failed and was sent again: a second miss waits for the next gap. */
  retried: boolean;
  inFlight: boolean;
}

/**
 * All of this node's liveness calls to its peers, on one connection per peer and one timer for
 * the node (WakeTimer): each wake makes at most one `heartbeat` call per peer and judges silence.
 *
 * - Heartbeat rounds every HEARTBEAT_INTERVAL, bounded by HEARTBEAT_TIMEOUT: only their misses
 *   count, so a peer is FAILED after HEARTBEAT_INTERVAL x MAX_HEARTBEAT_FAILURES, as in the reference.
 * - Re-probes of peers that are not up, backing off from one second to the interval: a node that
 *   started before its peers, or a peer that recovered, is known within seconds, not one interval later.
 * - Failover probes (FAILOVER_TIMEOUT > 0): a peer silent for FAILOVER_TIMEOUT is suspected, at that
 *   very moment (the timer wakes for it), not at the next polling round. Any sign of life counts (a
 *   probe or heartbeat answer, the peer's signed heartbeats and room-log messages: PeerDirectory.heardFrom),
 *   and a peer that keeps showing life on its own is not probed back (LISTENING_GAPS).
 *
 * Silence is counted in time this node ran: a wake that comes much later than asked means this node
 * stood still (a GC pause, a stalled VM, a long synchronous write), and the peers' answers may sit
 * unread in its sockets; the stall is not held against them.
 */
@Injectable()
export class PeerPulse implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(PeerPulse.name);
  private readonly plans: Plan[] = [];
  private readonly timer: WakeTimer;
  /** Failover probes: the time between two calls to a peer. */
  private readonly probeGapMs: number;
  private stopped = true;

  constructor(
    @Inject(NODE_CONFIG) private readonly config: NodeConfig,
    private readonly peers: PeerDirectory,
    private readonly clock: Clock,
    authenticator: PeerAuthenticator,
  ) {
    // a listening node still learns a peer's restart at once: its first calls are signed for an unknown run of this node
    authenticator.onStaleCaller((nodeId) => this.probeSoon(nodeId));
    this.probeGapMs = Math.max(50, Math.round(config.failoverTimeoutMs / PROBES_PER_TIMEOUT));
    this.timer = new WakeTimer(() => clock.monotonic(), (late) => this.wake(late));
  }

  onApplicationBootstrap(): void {
    if (this.peers.nodeIds.length === 0) return;
    this.stopped = false;
    const now = this.clock.monotonic();
    for (const nodeId of this.peers.nodeIds) this.plans.push({ nodeId, roundAt: now, reprobe: null, calledAt: Number.NEGATIVE_INFINITY, soon: false, retried: false, inFlight: false });
    this.wake(0); // learn who is up right away instead of one interval later
  }

  onModuleDestroy(): void {
    this.stopped = true;
    this.timer.stop();
  }

  private get failover(): boolean {
    return this.config.failoverTimeoutMs > 0;
  }

  /** Calls the peers that are due, judges silence, and sets the timer for what is due next. */
  wake(lateMs = 0): void {
    if (this.stopped) return;
    const now = this.clock.monotonic();
    if (this.failover) {
      if (lateMs > this.probeGapMs / 2) this.peers.forgiveStall(lateMs);
      this.peers.checkSilence(this.config.failoverTimeoutMs);
    }
    for (const plan of this.plans) {
      const kind = plan.inFlight ? null : this.due(plan, now);
      if (kind) void this.call(plan, kind, now);
    }
    this.arm();
  }

  /** Which call the peer is due for now, if any (and its plan moved on past it). */
  private due(plan: Plan, now: number): CallKind | null {
    const interval = this.config.heartbeatIntervalMs;
    if (this.isUp(plan.nodeId)) plan.reprobe = null;
    else if (interval > FIRST_REPROBE_MS) plan.reprobe ??= { at: now + FIRST_REPROBE_MS, delayMs: FIRST_REPROBE_MS };
    if (now >= plan.roundAt) {
      plan.roundAt = now + interval;
      if (plan.reprobe) plan.reprobe.at = Math.max(plan.reprobe.at, now + plan.reprobe.delayMs); // the round is a probe too
      return 'round';
    }
    if (plan.reprobe && now >= plan.reprobe.at) {
      plan.reprobe.delayMs = Math.min(plan.reprobe.delayMs * 2, interval);
      plan.reprobe.at = now + plan.reprobe.delayMs;
      return 'reprobe';
    }
    return this.failover && now >= this.probeAt(plan) ? 'probe' : null;
  }

  /** The next failover probe: a gap after this node's last call to the peer, later while the peer shows life on its own. */
  private probeAt(plan: Plan): number {
    if (plan.soon) return Number.NEGATIVE_INFINITY;
    return Math.max(plan.calledAt + this.probeGapMs, this.peers.lastHeardFrom(plan.nodeId) + this.probeGapMs * LISTENING_GAPS);
  }

  /** Probes the peer at the next wake (now, unless a call to it is open): its answer tells its boot id. */
  probeSoon(nodeId: string): void {
    const plan = this.plans.find((p) => p.nodeId === nodeId);
    if (!plan || !this.failover || this.stopped) return;
    plan.soon = true;
    this.arm();
  }

  private arm(): void {
    if (this.stopped) return;
    let next = Number.POSITIVE_INFINITY;
    for (const plan of this.plans) {
      if (this.failover) next = Math.min(next, this.peers.silenceDeadline(plan.nodeId, this.config.failoverTimeoutMs) ?? next);
      if (plan.inFlight) continue; // no second call while one is open: its end arms the timer again
      next = Math.min(next, plan.roundAt, plan.reprobe?.at ?? next, this.failover ? this.probeAt(plan) : next);
    }
    // what is overdue is due now (not earlier: the wake's lateness would read as a stall of this node)
    if (next < Number.POSITIVE_INFINITY) this.timer.wakeBy(Math.max(next, this.clock.monotonic()));
  }

  private isUp(nodeId: string): boolean {
    const status = this.peers.health(nodeId)?.status;
    return status === 'healthy' || status === 'degraded';
  }

  /**
   * One `heartbeat` call. A round's miss counts towards FAILED; a re-probe's answer counts (the peer
   * is up) and its miss does not; a failover probe's answer only ends the peer's silence.
   */
  private async call(plan: Plan, kind: CallKind, now: number): Promise<void> {
    plan.inFlight = true;
    plan.calledAt = now;
    plan.soon = false;
    const { nodeId } = plan;
    const timeoutMs = kind === 'probe' ? Math.min(this.config.heartbeatTimeoutMs, this.config.failoverTimeoutMs) : this.config.heartbeatTimeoutMs;
    try {
      if (kind === 'probe') {
        await this.peers.probe(nodeId, timeoutMs);
        plan.retried = false;
      } else {
        const beat = await this.peers.heartbeat(nodeId, timeoutMs);
        const ok = beat?.status === 'ok';
        if (!ok) this.logger.debug(`Heartbeat to ${nodeId} returned ${JSON.stringify(beat)}`);
        if (ok || kind === 'round') this.peers.recordHeartbeat(nodeId, ok, beat);
      }
    } catch (e) {
      this.logger.debug(`Heartbeat to ${nodeId} failed: ${(e as Error).message}`);
      if (kind === 'round') this.peers.recordHeartbeat(nodeId, false);
      if (kind === 'probe' && !plan.retried) plan.soon = plan.retried = true;
    } finally {
      plan.inFlight = false;
      this.arm();
    }
  }
}
