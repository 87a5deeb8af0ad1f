import { loadConfig } from '../../../common/config/load-config';
import type { MessageRepository } from '../../../common/store/message.repository';
import type { RoomRepository } from '../../../common/store/room.repository';
import type { ClientRegistry } from '../../members/client-registry';
import type { RoomHosts } from '../routing/room-hosts';
import type { RoomHostService } from '../host/room-host.service';
import type { RoomVisibility } from '../replication/room-visibility';
import { boundPage, RoomHistoryService } from './room-history.service';
import type { ChatMessage } from '../../../common/protocol/client-wire';

const message = (seq: number, size: number): ChatMessage => ({
  message_id: `m${seq}`,
  room_id: 'r',
  username: 'u',
  content: 'x'.repeat(size),
  sequence_number: seq,
  timestamp: '2026-01-01T00:00:00.000Z',
});

describe(boundPage.name, () => {
  const page = Array.from({ length: 200 }, (_, i) => message(i + 1, 5000));

  it('keeps a page under the byte bound, nearest where the client pages from', () => {
    const forward = boundPage(page, true, 100_000);
    expect(forward.cut).toBe(true);
    expect(forward.messages[0].sequence_number).toBe(1);
    expect(Buffer.byteLength(JSON.stringify(forward.messages))).toBeLessThanOrEqual(100_000);

    const back = boundPage(page, false, 100_000);
    expect(back.messages.at(-1)!.sequence_number).toBe(200);
    expect(back.messages.length).toBe(forward.messages.length);
  });

  it('leaves a small page alone and always keeps one message', () => {
    expect(boundPage(page.slice(0, 3), true)).toEqual({ messages: page.slice(0, 3), cut: false });
    expect(boundPage([message(1, 5000)], true, 10).messages).toHaveLength(1);
  });
});

describe(`${RoomHistoryService.name}.replayStart`, () => {
  const sut = new RoomHistoryService(loadConfig({ HISTORY_REPLAY_LIMIT: '50' }), {} as RoomRepository, {} as MessageRepository, {} as ClientRegistry, {} as RoomHosts, {} as RoomHostService, {} as RoomVisibility);

  it('replays a room no longer than HISTORY_REPLAY_LIMIT from its first message, a longer one from its last N', () => {
    expect(sut.replayStart({}, 1, 40)).toBe(0);
    expect(sut.replayStart({}, 1, 250)).toBe(200);
    expect(sut.replayStart({}, 0, 0)).toBe(0);
  });

  it('takes history_limit up to HISTORY_REPLAY_LIMIT, and since_sequence as it is', () => {
    expect(sut.replayStart({ history_limit: 10 }, 1, 250)).toBe(240);
    expect(sut.replayStart({ history_limit: 0 }, 1, 250)).toBe(250);
    expect(sut.replayStart({ history_limit: 5000 }, 1, 250)).toBe(200);
    expect(sut.replayStart({ since_sequence: 3 }, 1, 250)).toBe(3);
    expect(sut.replayStart({ since_sequence: 300 }, 1, 250)).toBe(250);
  });
});
