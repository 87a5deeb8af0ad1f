import { parseExposition, sampleValue } from '../../testing/prometheus-text';
import { ChatMetrics } from './chat-metrics';
import { ClientErrorFrames } from './client-error-frames';
import { REJECTION_REASONS } from '../errors/rejection-reasons';

describe(ChatMetrics.name, () => {
  let sut: ChatMetrics;

  beforeEach(() => {
    sut = new ChatMetrics();
  });

  it('serves a text exposition that agrees sample by sample with the registry it came from', async () => {
    sut.rejected('RATE_LIMITED');
    sut.messageAcknowledged(0.003);
    sut.peerCallDone('node2', 'heartbeat', 0.02);
    const { contentType, body } = await sut.exposition();
    expect(contentType).toMatch(/^text\/plain; version=0\.0\.4/);
    const parsed = parseExposition(body);
    const chatMetrics = (await sut.registry.getMetricsAsJSON()).filter((m) => m.name.startsWith('chat_')); // process metrics move between reads
    expect(chatMetrics.length).toBeGreaterThanOrEqual(4);
    for (const metric of chatMetrics) {
      for (const v of metric.values) {
        const name = (v as { metricName?: string }).metricName ?? metric.name;
        expect(sampleValue(parsed, name, Object.fromEntries(Object.entries(v.labels).map(([k, l]) => [k, String(l)])))).toBe(v.value);
      }
    }
    expect(sampleValue(parsed, 'process_cpu_seconds_total')).toBeGreaterThanOrEqual(0);
    expect(sampleValue(parsed, 'nodejs_eventloop_lag_seconds')).toBeGreaterThanOrEqual(0);
  });

  it('counts every refusal under its code, unknown codes under "other", with every reason present from the start', async () => {
    sut.rejected('RATE_LIMITED');
    sut.rejected('RATE_LIMITED');
    sut.rejected('SOMETHING_NEW');
    sut.rejected(undefined);
    const parsed = parseExposition((await sut.exposition()).body);
    expect(sampleValue(parsed, 'chat_rejected_total', { reason: 'RATE_LIMITED' })).toBe(2);
    expect(sampleValue(parsed, 'chat_rejected_total', { reason: 'other' })).toBe(2);
    expect(sampleValue(parsed, 'chat_rejected_total', { reason: 'UNAUTHORIZED' })).toBe(0);
    expect(parsed.filter((s) => s.name === 'chat_rejected_total')).toHaveLength(REJECTION_REASONS.length + 1);
  });

  it('records ack latencies and peer call durations as histograms, and failovers from 0', async () => {
    sut.messageAcknowledged(0.0004);
    sut.messageAcknowledged(0.2);
    sut.peerCallDone('node2', 'replicate_events_json', 0.004);
    const parsed = parseExposition((await sut.exposition()).body);
    expect(sampleValue(parsed, 'chat_message_ack_seconds_count')).toBe(2);
    expect(sampleValue(parsed, 'chat_message_ack_seconds_bucket', { le: '0.0005' })).toBe(1);
    expect(sampleValue(parsed, 'chat_message_ack_seconds_bucket', { le: '0.25' })).toBe(2);
    expect(sampleValue(parsed, 'chat_peer_call_seconds_count', { peer: 'node2', method: 'replicate_events_json' })).toBe(1);
    expect(sampleValue(parsed, 'chat_failovers_total')).toBe(0);
  });

  it('counts each room this node took over from a host that stopped answering', async () => {
    sut.failedOver();
    sut.failedOver();
    const { body } = await sut.exposition();
    expect(sampleValue(parseExposition(body), 'chat_failovers_total')).toBe(2);
    expect(body).toContain('# HELP chat_failovers_total Rooms this node took over from a host that stopped answering');
  });
});

describe(ClientErrorFrames.name, () => {
  it('counts the refusal and returns the frame as JSON', async () => {
    const metrics = new ChatMetrics();
    const sut = new ClientErrorFrames(metrics);
    const frame = { type: 'message_error', data: { room_id: 'r', error: 'Slow down', error_code: 'RATE_LIMITED' } };
    expect(JSON.parse(sut.serialise('send_message', 'RATE_LIMITED', 'Slow down', frame))).toEqual(frame);
    expect(metrics.rejectedCount('RATE_LIMITED')).toBe(1);
  });
});
