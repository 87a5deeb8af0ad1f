import type { Entry } from '../consensus/log-entry';

/** About the size of an entry on the wire, for append budgets: computed once per entry, without serialising it. */
const sizes = new WeakMap<Entry, number>();

export function entryBytes(e: Entry): number {
  let n = sizes.get(e);
  if (n === undefined) sizes.set(e, (n = 96 + (e.clientKey?.length ?? 0) + approxJsonBytes(e.data)));
  return n;
}

/** Roughly what JSON.stringify(value) takes in XML: strings by their length (a fifth more for escapes), the rest by shape. */
function approxJsonBytes(value: unknown): number {
  if (typeof value === 'string') return Math.ceil(value.length * 1.2) + 2;
  if (value === null || typeof value !== 'object') return 12;
  let n = 2;
  if (Array.isArray(value)) for (const v of value) n += approxJsonBytes(v) + 1;
  else for (const [k, v] of Object.entries(value)) n += k.length + 4 + approxJsonBytes(v);
  return n;
}
