import type { DatabaseSync } from 'node:sqlite';
import type { ChatStore } from '../common/store/chat-store';
import type { DatabaseFile } from '../common/store/database-file';

/** The store's one SQLite connection, for specs that inspect it or damage it (no service ever gets it). */
export const storeConnection = (store: ChatStore): DatabaseSync => (store as unknown as { database: DatabaseFile }).database.db;
