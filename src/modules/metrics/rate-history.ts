import { Injectable, OnModuleDestroy } from '@nestjs/common';
import { Clock } from '../../common/clock/clock';
import { NodeGauges } from './node-gauges';
import type { RateSeries } from './status-view';

/** Seconds between samples and how many are kept: five minutes of history for the status page. */
export const RATE_SAMPLE_INTERVAL_S = 2;
const SAMPLES_KEPT = 150;


/** Samples this node's counters so the status page can chart rates without a Prometheus. */
@Injectable()
export class RateHistory implements OnModuleDestroy {
  private readonly samples: { at: number; messages: number; deliveries: number }[] = [];
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly gauges: NodeGauges,
    private readonly clock: Clock,
  ) {
    this.sample();
    this.timer = setInterval(() => this.sample(), RATE_SAMPLE_INTERVAL_S * 1000);
    this.timer.unref();
  }

  onModuleDestroy(): void {
    clearInterval(this.timer);
  }

  sample(): void {
    const c = this.gauges.counters(); // two plain numbers: sampling costs nothing measurable
    this.samples.push({ at: this.clock.monotonic(), messages: c.messagesTotal, deliveries: c.deliveriesTotal });
    if (this.samples.length > SAMPLES_KEPT + 1) this.samples.shift();
  }

  series(): RateSeries {
    const messages: number[] = [];
    const deliveries: number[] = [];
    for (let i = 1; i < this.samples.length; i++) {
      const a = this.samples[i - 1];
      const b = this.samples[i];
      const seconds = Math.max((b.at - a.at) / 1000, 0.001);
      messages.push(round((b.messages - a.messages) / seconds));
      deliveries.push(round((b.deliveries - a.deliveries) / seconds));
    }
    return { interval_s: RATE_SAMPLE_INTERVAL_S, messages_per_s: messages, deliveries_per_s: deliveries };
  }
}

const round = (n: number) => Math.round(n * 100) / 100;
