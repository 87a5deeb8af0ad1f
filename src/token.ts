/**
 * Mints a client token for AUTH_MODE=token, signed with the cluster's AUTH_SECRET / AUTH_SECRET_FILE:
 *
 *   npm run --silent token -- alice --ttl 24h      # prints the token (one line) on stdout
 *   node dist/token.js alice --ttl 7d              # the same inside the image
 */
import { ClientTokens, TTL_PATTERN } from './common/auth/client-tokens';
import { ConfigError } from './common/config/config-error';
import { readAuthSecret } from './common/config/client-auth-settings';

const USAGE = 'usage: npm run --silent token -- <username> [--ttl 24h]   (AUTH_SECRET or AUTH_SECRET_FILE must be set)';

export function parseTokenArgs(argv: string[]): { username: string; ttl: string } | string {
  let ttl = '24h';
  const names: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--ttl') ttl = argv[++i] ?? '';
    else if (argv[i].startsWith('--ttl=')) ttl = argv[i].slice('--ttl='.length);
    else if (argv[i] === '--help' || argv[i] === '-h') return USAGE;
    else names.push(argv[i]);
  }
  if (names.length !== 1) return USAGE;
  if (!TTL_PATTERN.test(ttl)) return `--ttl must look like 3600s, 30m, 24h or 7d (got "${ttl}")`;
  return { username: names[0], ttl };
}

async function main(): Promise<number> {
  const args = parseTokenArgs(process.argv.slice(2));
  if (typeof args === 'string') {
    process.stderr.write(`${args}\n`);
    return 2;
  }
  const secret = readAuthSecret();
  if (!secret) {
    process.stderr.write(`AUTH_SECRET or AUTH_SECRET_FILE must be set to mint tokens\n${USAGE}\n`);
    return 2;
  }
  process.stdout.write(`${await new ClientTokens(secret).mint(args.username, args.ttl)}\n`);
  return 0;
}

if (require.main === module) {
  main().then(
    (code) => process.exit(code),
    (e: unknown) => {
      process.stderr.write(`${e instanceof ConfigError ? e.message : `Cannot mint a token: ${(e as Error)?.message ?? e}`}\n`);
      process.exit(e instanceof ConfigError ? 2 : 1);
    },
  );
}
