import { randomUUID } from 'node:crypto';

/** Changes on every start, so peers can tell a restart (whose connections are all gone) from a hiccup. */
export const BOOT_ID = Symbol('BOOT_ID');
export const bootIdProvider = { provide: BOOT_ID, useFactory: () => randomUUID() };
