/** Structured fields a JSON log line may carry besides its message (LOG_FORMAT=json). */
export interface LogFieldValues {
  room_id?: string;
  peer?: string;
  error_code?: string;
}

const FIELDS = Symbol('logFields');

/** A log message with fields attached; text logs print only the message, JSON logs add the fields. */
export interface FieldedMessage {
  readonly [FIELDS]: true;
  readonly message: string;
  readonly fields: LogFieldValues;
}

export function logFields(message: string, fields: LogFieldValues): FieldedMessage {
  return { [FIELDS]: true, message, fields };
}

export function isFieldedMessage(value: unknown): value is FieldedMessage {
  return typeof value === 'object' && value !== null && (value as FieldedMessage)[FIELDS] === true;
}

const UUID = '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}';
const ROOM_ID = new RegExp(`\\b(?:room|rooms|in|of)\\s+(?:id\\s+)?'?(${UUID})`, 'i');
const ANY_UUID = new RegExp(`(${UUID})`, 'i');
const ERROR_CODE = /\b[A-Z]{3,}(?:_[A-Z]+)+\b/g;

/**
 * Fields inferred from a plain message, so existing log calls need no rewriting: a UUID after
 * "room"/"in" (or the only one in a line that speaks of a room) is the room, a configured peer id named as a word is the peer, and an upper-case
 * code from `errorCodes` is the error_code. Explicit fields win over inferred ones.
 */
export function inferLogFields(text: string, peerIds: ReadonlySet<string>, errorCodes: ReadonlySet<string>): LogFieldValues {
  const out: LogFieldValues = {};
  const room = ROOM_ID.exec(text) ?? (/\broom\b/i.test(text) ? ANY_UUID.exec(text) : null); // "Room 'x' (<id>) created"
  if (room) out.room_id = room[1].toLowerCase();
  if (peerIds.size > 0) {
    for (const word of text.split(/[^A-Za-z0-9_.-]+/)) {
      const id = word.replace(/\.+$/, '');
      if (peerIds.has(id)) {
        out.peer = id;
        break;
      }
    }
  }
  for (const [code] of text.matchAll(ERROR_CODE)) {
    if (errorCodes.has(code)) {
      out.error_code = code;
      break;
    }
  }
  return out;
}
