import * as fs from 'node:fs';
import { ConfigError } from './config-error';

type Env = Record<string, string | undefined>;

/**
 * A secret given inline (`NAME`) or as a file holding it (`NAME_FILE`, e.g. a Docker secret),
 * trimmed; null when neither is set. Both set, an unreadable or empty file, a value shorter than
 * `minLength` or with spaces: ConfigError naming the variable.
 */
export function readSecretSetting(env: Env, name: string, minLength: number): string | null {
  const inline = env[name]?.trim() ?? '';
  const file = env[`${name}_FILE`]?.trim() ?? '';
  if (inline && file) throw new ConfigError(name, `and ${name}_FILE are both set; set only one of them`);
  let secret = inline;
  let source = name;
  if (file) {
    source = `${name}_FILE`;
    secret = readSettingFile(source, file).trim();
    if (!secret) throw new ConfigError(source, `names an empty file (${file})`);
  }
  if (!secret) return null;
  if (secret.length < minLength || /\s/.test(secret)) {
    throw new ConfigError(source, `must be at least ${minLength} characters without spaces (e.g. openssl rand -hex 32)`);
  }
  return secret;
}

/** The contents of a file a setting names; ConfigError naming the variable when it cannot be read. */
export function readSettingFile(variable: string, file: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw new ConfigError(variable, `cannot be read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}: ${file})`);
  }
}
