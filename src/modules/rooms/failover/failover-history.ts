import { Injectable } from '@nestjs/common';
import { Clock } from '../../../common/clock/clock';
import { ChatMetrics } from '../../../common/metrics/chat-metrics';

/** One room moved to this node. */
export interface FailoverRecord {
  room_id: string;
  room_name: string;
  at: string;
  from_node: string;
  to_node: string;
  from_epoch: number;
  to_epoch: number;
  first_sequence: number;
}

/** Failovers this node performed, newest last: /health details, /status.json and chat_failovers_total. */
@Injectable()
export class FailoverHistory {
  private static readonly KEPT = 20;
  private readonly recent: FailoverRecord[] = [];
  private total = 0;

  constructor(
    private readonly clock: Clock,
    private readonly metrics: ChatMetrics,
  ) {}

  record(r: Omit<FailoverRecord, 'at'>): void {
    this.total++;
    this.metrics.failedOver();
    this.recent.push({ ...r, at: this.clock.iso() });
    if (this.recent.length > FailoverHistory.KEPT) this.recent.shift();
  }

  get count(): number {
    return this.total;
  }

  list(): FailoverRecord[] {
    return [...this.recent];
  }
}
