import type { RoomMessage } from '../../src/modules/rooms/consensus/room-messages';

/** Where a committed client message sits: what its host told the client. */
export interface Ack {
  readonly sequence: number;
  readonly index: number;
  readonly epoch: number;
}

/** Everything that travels in a simulated cluster: room messages, node heartbeats, client traffic. */
export type Packet =
  | {
      readonly kind: 'room';
      readonly from: string;
      readonly to: string;
      readonly room: string;
      readonly msg: RoomMessage;
      /** The sender's boot: a room message that outlived its sender's process is dropped. */
      readonly boot: number;
      /** The sender's disk, remembered before the message is taken (a node that took part in a vote or a commit with a disk knows that disk). */
      readonly disk: string;
      /** The room's birth certificate, so that a node learning of the room knows whether its disk predates it. */
      readonly birth: Readonly<Record<string, string>>;
    }
  | {
      readonly kind: 'heartbeat';
      readonly from: string;
      readonly to: string;
      readonly boot: number;
      readonly disk: string;
      /** The disk the sender remembers for the receiver (null: it never heard of it). */
      readonly remembered: string | null;
    }
  | { readonly kind: 'request'; readonly from: string; readonly to: string; readonly room: string; readonly key: string }
  | {
      readonly kind: 'reply';
      readonly from: string;
      readonly to: string;
      readonly room: string;
      readonly key: string;
      /** Set when committed; null: refused (try `leader`, or elsewhere). */
      readonly ack: Ack | null;
      readonly leader: string | null;
    };

export function describePacket(p: Packet): string {
  switch (p.kind) {
    case 'room': {
      const m = p.msg;
      const detail =
        m.type === 'append'
          ? ` prev=${m.prev.epoch}/${m.prev.index} n=${m.entries.length} c=${m.commit}`
          : m.type === 'appendResult'
            ? ` ${m.ok ? 'ok' : 'no'} m=${m.match}${m.hint ? ` h=${m.hint.epoch}/${m.hint.index}` : ''}${m.learner ? ' L' : ''}`
            : 'last' in m
              ? ` last=${m.last.epoch}/${m.last.index}`
              : ` ${m.granted ? 'yes' : 'no'}`;
      return `${p.from}>${p.to} ${p.room} ${m.type} e${m.epoch}${detail}`;
    }
    case 'heartbeat':
      return `${p.from}>${p.to} hb b${p.boot} ${p.disk} rem=${p.remembered}`;
    case 'request':
      return `${p.from}>${p.to} req ${p.room} ${p.key}`;
    case 'reply':
      return `${p.from}>${p.to} reply ${p.room} ${p.key} ${p.ack ? `ack s${p.ack.sequence} i${p.ack.index} e${p.ack.epoch}` : `refused leader=${p.leader}`}`;
  }
}
