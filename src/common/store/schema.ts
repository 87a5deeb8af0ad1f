/** Versioned schema: migration N brings a database from version N-1 to N. Never edit a shipped one. */
export const MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE rooms (
    room_id TEXT PRIMARY KEY,
    room_name TEXT NOT NULL,
    description TEXT,
    creator_id TEXT NOT NULL,
    host_node TEXT NOT NULL,
    host_epoch INTEGER NOT NULL DEFAULT 1,
    state TEXT NOT NULL DEFAULT 'ACTIVE',
    created_at TEXT NOT NULL,
    last_sequence INTEGER NOT NULL DEFAULT 0,
    deletion_txn TEXT
  );
  CREATE INDEX rooms_by_host ON rooms(host_node);
  CREATE TABLE members (
    room_id TEXT NOT NULL,
    username TEXT NOT NULL,
    node_id TEXT NOT NULL,
    joined_at TEXT NOT NULL,
    PRIMARY KEY (room_id, username)
  ) WITHOUT ROWID;
  CREATE INDEX members_by_node ON members(node_id);
  CREATE TABLE messages (
    room_id TEXT NOT NULL,
    sequence_number INTEGER NOT NULL,
    message_id TEXT NOT NULL,
    username TEXT NOT NULL,
    content TEXT NOT NULL,
    timestamp TEXT NOT NULL,
    client_message_id TEXT,
    PRIMARY KEY (room_id, sequence_number)
  ) WITHOUT ROWID;
  CREATE UNIQUE INDEX messages_by_client_id ON messages(room_id, username, client_message_id)
    WHERE client_message_id IS NOT NULL;
  CREATE TABLE tombstones (
    room_id TEXT PRIMARY KEY,
    room_name TEXT NOT NULL,
    host_node TEXT NOT NULL,
    deleted_at TEXT NOT NULL,
    transaction_id TEXT
  );
  `,
  // 2: the member node's boot id at join time, so a host told that node restarted removes only the
  // memberships of its previous run, not those its clients made again since.
  `
  ALTER TABLE members ADD COLUMN boot_id TEXT;
  `,
  // 3: which nodes a username is a member through, asked on every join to refuse taking a live name.
  `
  CREATE INDEX members_by_username ON members(username);
  `,
  // 4: host failover. promised_epoch: the highest epoch this node granted a candidate (it refuses
  // older hosts from then on); epoch_start: the first sequence of host_epoch; log_epoch: the epoch
  // whose host's log this copy is a prefix of (compared, with last_sequence, in elections).
  `
  ALTER TABLE rooms ADD COLUMN promised_epoch INTEGER NOT NULL DEFAULT 1;
  ALTER TABLE rooms ADD COLUMN epoch_start INTEGER NOT NULL DEFAULT 1;
  ALTER TABLE rooms ADD COLUMN log_epoch INTEGER NOT NULL DEFAULT 1;
  `,
  // 5: one replicated log per room (Raft; src/modules/rooms/consensus). room_logs: the node's hard
  // state per room (epoch, vote, commit) and the host it last knew; log_entries: the log itself;
  // rooms, members and messages become what the committed entries made of them. The epochs of
  // version 4 go. Existing rooms get a log made from what they hold (the same on every node of a
  // cluster that was caught up when it stopped: upgrade a quiet cluster, all nodes at once).
  // node_disk: this database's identity; peer_disks: the identity each peer's disk had when last
  // seen (a peer back with a new one has forgotten its votes: it rejoins as a learner).
  `
  CREATE TABLE room_logs (
    room_id TEXT PRIMARY KEY,
    epoch INTEGER NOT NULL DEFAULT 0,
    vote TEXT,
    commit_index INTEGER NOT NULL DEFAULT 0,
    applied_index INTEGER NOT NULL DEFAULT 0,
    learner INTEGER NOT NULL DEFAULT 0,
    host_node TEXT,
    host_epoch INTEGER NOT NULL DEFAULT 0
  ) WITHOUT ROWID;
  CREATE INDEX room_logs_by_host ON room_logs(host_node);
  CREATE TABLE log_entries (
    room_id TEXT NOT NULL,
    idx INTEGER NOT NULL,
    epoch INTEGER NOT NULL,
    kind TEXT NOT NULL,
    sequence INTEGER NOT NULL,
    client_key TEXT,
    data TEXT,
    PRIMARY KEY (room_id, idx)
  ) WITHOUT ROWID;
  CREATE UNIQUE INDEX log_entries_by_client_key ON log_entries(room_id, client_key) WHERE client_key IS NOT NULL;
  CREATE TABLE node_disk (disk_id TEXT NOT NULL, created_at TEXT NOT NULL, rejoining INTEGER NOT NULL DEFAULT 0);
  CREATE TABLE peer_disks (node_id TEXT PRIMARY KEY, disk_id TEXT NOT NULL, replaced_disk_id TEXT) WITHOUT ROWID;

  INSERT INTO log_entries (room_id, idx, epoch, kind, sequence, client_key, data)
    SELECT room_id, 1, 1, 'room', 0, NULL,
      json_object('room_name', room_name, 'description', description, 'creator_id', creator_id, 'created_at', created_at)
    FROM rooms;
  INSERT INTO log_entries (room_id, idx, epoch, kind, sequence, client_key, data)
    SELECT room_id, sequence_number + 1, 1, 'message', sequence_number,
      CASE WHEN client_message_id IS NULL THEN NULL ELSE username || char(0) || client_message_id END,
      json_object('message_id', message_id, 'username', username, 'content', content, 'timestamp', timestamp, 'client_message_id', client_message_id)
    FROM messages;
  INSERT INTO log_entries (room_id, idx, epoch, kind, sequence, client_key, data)
    SELECT m.room_id, r.last_sequence + 1 + row_number() OVER (PARTITION BY m.room_id ORDER BY m.username), 1, 'member_joined', r.last_sequence, NULL,
      json_object('username', m.username, 'node_id', m.node_id, 'joined_at', r.created_at)
    FROM members m JOIN rooms r ON r.room_id = m.room_id;
  INSERT INTO room_logs (room_id, epoch, vote, commit_index, applied_index, learner, host_node, host_epoch)
    SELECT r.room_id, max(r.host_epoch, r.promised_epoch), NULL, e.last, e.last, 0, r.host_node, r.host_epoch
    FROM rooms r JOIN (SELECT room_id, max(idx) AS last FROM log_entries GROUP BY room_id) e ON e.room_id = r.room_id;
  UPDATE members SET joined_at = (SELECT created_at FROM rooms r WHERE r.room_id = members.room_id);
  ALTER TABLE rooms DROP COLUMN promised_epoch;
  ALTER TABLE rooms DROP COLUMN epoch_start;
  ALTER TABLE rooms DROP COLUMN log_epoch;
  `,
  // 6: edited and deleted messages (entries message_edited / message_deleted). A deleted message
  // stays as a tombstone (its sequence number keeps the room's numbers contiguous) with empty
  // content; requests name a message by id, hence the index.
  `
  ALTER TABLE messages ADD COLUMN edited_at TEXT;
  ALTER TABLE messages ADD COLUMN deleted_at TEXT;
  CREATE INDEX messages_by_id ON messages(room_id, message_id);
  `,
  // 7: read markers (entry read_marker: how far each user has read each room, only ever forward)
  // and full-text search over messages. message_search is an FTS5 table kept by triggers on
  // messages, so every write that applies a committed entry (insert, edit, deletion, retention,
  // room deletion) updates it in the same transaction; a deleted message (deleted_at set) is not
  // in it. messages is WITHOUT ROWID, so message_search_keys gives each indexed message the
  // integer rowid FTS5 needs. Existing messages are indexed here.
  `
  CREATE TABLE read_markers (
    room_id TEXT NOT NULL,
    username TEXT NOT NULL,
    sequence_number INTEGER NOT NULL,
    read_at TEXT NOT NULL,
    PRIMARY KEY (room_id, username)
  ) WITHOUT ROWID;
  CREATE TABLE message_search_keys (
    search_rowid INTEGER PRIMARY KEY,
    room_id TEXT NOT NULL,
    sequence_number INTEGER NOT NULL,
    UNIQUE (room_id, sequence_number)
  );
  CREATE VIRTUAL TABLE message_search USING fts5(content, tokenize = 'unicode61 remove_diacritics 2');
  CREATE TRIGGER message_search_on_insert AFTER INSERT ON messages WHEN new.deleted_at IS NULL BEGIN
    INSERT INTO message_search_keys (room_id, sequence_number) VALUES (new.room_id, new.sequence_number);
    INSERT INTO message_search (rowid, content) VALUES (last_insert_rowid(), new.content);
  END;
  CREATE TRIGGER message_search_on_remove AFTER DELETE ON messages BEGIN
    DELETE FROM message_search WHERE rowid = (SELECT search_rowid FROM message_search_keys WHERE room_id = old.room_id AND sequence_number = old.sequence_number);
    DELETE FROM message_search_keys WHERE room_id = old.room_id AND sequence_number = old.sequence_number;
  END;
  CREATE TRIGGER message_search_on_change AFTER UPDATE OF content, deleted_at ON messages BEGIN
    DELETE FROM message_search WHERE rowid = (SELECT search_rowid FROM message_search_keys WHERE room_id = old.room_id AND sequence_number = old.sequence_number);
    DELETE FROM message_search_keys WHERE room_id = old.room_id AND sequence_number = old.sequence_number;
    INSERT INTO message_search_keys (room_id, sequence_number) SELECT new.room_id, new.sequence_number WHERE new.deleted_at IS NULL;
    INSERT INTO message_search (rowid, content) SELECT last_insert_rowid(), new.content WHERE new.deleted_at IS NULL;
  END;
  INSERT INTO message_search_keys (room_id, sequence_number) SELECT room_id, sequence_number FROM messages WHERE deleted_at IS NULL;
  INSERT INTO message_search (rowid, content)
    SELECT k.search_rowid, m.content FROM message_search_keys k JOIN messages m ON m.room_id = k.room_id AND m.sequence_number = k.sequence_number;
  `,
  // 8: private rooms and direct messages. A private room is listed and joinable only by its
  // creator and the users invited to it (room_invites: the invite_user entries, and both people of
  // a direct room from its first entry). Kept beside rooms, not in it, and removed with it by
  // trigger, so a room's deletion (TombstoneRepository.deleteRoom) takes them along in its write.
  `
  CREATE TABLE room_privacy (
    room_id TEXT PRIMARY KEY,
    direct INTEGER NOT NULL DEFAULT 0
  ) WITHOUT ROWID;
  CREATE TABLE room_invites (
    room_id TEXT NOT NULL,
    username TEXT NOT NULL,
    invited_by TEXT NOT NULL,
    invited_at TEXT NOT NULL,
    PRIMARY KEY (room_id, username)
  ) WITHOUT ROWID;
  CREATE TRIGGER room_privacy_on_room_drop AFTER DELETE ON rooms BEGIN
    DELETE FROM room_privacy WHERE room_id = old.room_id;
    DELETE FROM room_invites WHERE room_id = old.room_id;
  END;
  `,
  // 9: moderation (the room's moderation entries, applied on every node): who the creator made a
  // moderator, who is banned, and until when a member is muted (the host's clock at proposal time,
  // stored as an absolute time so every node refuses the same sends). Removed with the room, as 8.
  `
  CREATE TABLE room_moderation (
    room_id TEXT NOT NULL,
    username TEXT NOT NULL,
    moderator INTEGER NOT NULL DEFAULT 0,
    banned INTEGER NOT NULL DEFAULT 0,
    muted_until TEXT,
    PRIMARY KEY (room_id, username)
  ) WITHOUT ROWID;
  CREATE TRIGGER room_moderation_on_room_drop AFTER DELETE ON rooms BEGIN
    DELETE FROM room_moderation WHERE room_id = old.room_id;
  END;
  `,
  // 10: the search index is kept behind the messages instead of in their write (message_search
  // cost about half of the SQLite work of applying a message: FTS5 writes a segment per
  // transaction). message_search_progress says how far each room's messages are indexed; messages
  // are applied once each, in sequence order, so the ones above it are exactly those still to index
  // (MessageSearchRepository.indexPending, run in batches a moment later and before any search).
  // An edit or a deletion changes the index only for a message already in it; the room's row
  // takes its progress along when it goes.
  `
  CREATE TABLE message_search_progress (
    room_id TEXT PRIMARY KEY,
    indexed_through INTEGER NOT NULL
  ) WITHOUT ROWID;
  INSERT INTO message_search_progress (room_id, indexed_through) SELECT room_id, max(sequence_number) FROM messages GROUP BY room_id;
  DROP TRIGGER message_search_on_insert;
  DROP TRIGGER message_search_on_change;
  CREATE TRIGGER message_search_on_change AFTER UPDATE OF content, deleted_at ON messages
  WHEN old.sequence_number <= coalesce((SELECT indexed_through FROM message_search_progress WHERE room_id = old.room_id), 0) BEGIN
    DELETE FROM message_search WHERE rowid = (SELECT search_rowid FROM message_search_keys WHERE room_id = old.room_id AND sequence_number = old.sequence_number);
    DELETE FROM message_search_keys WHERE room_id = old.room_id AND sequence_number = old.sequence_number;
    INSERT INTO message_search_keys (room_id, sequence_number) SELECT new.room_id, new.sequence_number WHERE new.deleted_at IS NULL;
    INSERT INTO message_search (rowid, content) SELECT last_insert_rowid(), new.content WHERE new.deleted_at IS NULL;
  END;
  CREATE TRIGGER message_search_progress_on_room_drop AFTER DELETE ON rooms BEGIN
    DELETE FROM message_search_progress WHERE room_id = old.room_id;
  END;
  `,
  // 11: the room's moderation notices, so a member who joins later or reloads sees them
  // (join_room_success moderation_log). ModerationApplier writes one row per applied moderation
  // entry, in the write that applies it, keyed by the entry's log index (the same on every node),
  // with the live event's name and data; only the latest 100 per room are kept (the whole list
  // goes into every join answer). Removed with the room, as 8. Entries this node applied before
  // are read back from its log (without member_count, which was not stored).
  `
  CREATE TABLE room_moderation_log (
    room_id TEXT NOT NULL,
    log_index INTEGER NOT NULL,
    event TEXT NOT NULL,
    data TEXT NOT NULL,
    PRIMARY KEY (room_id, log_index)
  ) WITHOUT ROWID;
  CREATE TRIGGER room_moderation_log_on_room_drop AFTER DELETE ON rooms BEGIN
    DELETE FROM room_moderation_log WHERE room_id = old.room_id;
  END;
  INSERT INTO room_moderation_log (room_id, log_index, event, data)
    SELECT room_id, idx, event, json_object('room_id', room_id, 'member', member, 'by', by_user, 'reason', reason, 'muted_until', muted_until, 'timestamp', ts)
    FROM (
      SELECT e.room_id, e.idx,
        CASE json_extract(e.data, '$.action') WHEN 'add_moderator' THEN 'moderator_added' WHEN 'kick' THEN 'member_kicked'
          WHEN 'ban' THEN 'member_banned' WHEN 'unban' THEN 'member_unbanned' WHEN 'mute' THEN 'member_muted' END AS event,
        json_extract(e.data, '$.member') AS member, json_extract(e.data, '$.by') AS by_user,
        nullif(json_extract(e.data, '$.reason'), '') AS reason,
        CASE WHEN json_extract(e.data, '$.action') = 'mute' THEN json_extract(e.data, '$.muted_until') END AS muted_until,
        json_extract(e.data, '$.timestamp') AS ts,
        row_number() OVER (PARTITION BY e.room_id ORDER BY e.idx DESC) AS newest
      FROM log_entries e JOIN room_logs l ON l.room_id = e.room_id JOIN rooms r ON r.room_id = e.room_id
      WHERE e.kind = 'moderation' AND e.idx <= l.applied_index AND json_valid(e.data)
        AND json_type(e.data, '$.member') = 'text' AND json_type(e.data, '$.by') = 'text' AND json_type(e.data, '$.timestamp') = 'text'
        AND json_extract(e.data, '$.action') IN ('add_moderator', 'kick', 'ban', 'unban', 'mute')
    )
    WHERE newest <= 100;
  UPDATE room_moderation_log SET data = json_remove(data, '$.reason') WHERE json_type(data, '$.reason') = 'null';
  UPDATE room_moderation_log SET data = json_remove(data, '$.muted_until') WHERE json_type(data, '$.muted_until') = 'null';
  `,
  // 12: a fresh disk that stops before it knew whether the cluster knew this node with another
  // disk must ask again when it starts (RejoinStatus): its database exists by then, so "created
  // in this run" no longer tells. deciding: 1 from a fresh disk's creation until it decided.
  `
  ALTER TABLE node_disk ADD COLUMN deciding INTEGER NOT NULL DEFAULT 0;
  `,
];
