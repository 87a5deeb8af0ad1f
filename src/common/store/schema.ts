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
];
