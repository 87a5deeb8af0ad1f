import { createPrivateKey, X509Certificate, type KeyObject } from 'node:crypto';
import { ConfigError } from './config-error';
import { readSettingFile } from './secret-setting';

type Env = Record<string, string | undefined>;

/** PEM texts for TLS between peers: this node's certificate (chain) and key, and the CA peers must be signed by. */
export interface PeerTls {
  readonly cert: string;
  readonly key: string;
  readonly ca: string;
}

const NAMES = ['PEER_TLS_CERT', 'PEER_TLS_KEY', 'PEER_TLS_CA'] as const;
const PEM_BLOCK = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

/**
 * PEER_TLS_CERT, PEER_TLS_KEY and PEER_TLS_CA (each as PEM text, or `_FILE` naming a file that
 * holds it: a Docker secret), all three or none. Checked at boot so a bad file stops the node with
 * the variable's name instead of failing every peer call later: each parses, the key belongs to
 * the certificate, a CA certificate signed it, and it is valid now.
 */
export function loadPeerTls(env: Env, now = Date.now()): PeerTls | null {
  const values = NAMES.map((name) => pemSetting(env, name));
  if (values.every((v) => v === null)) return null;
  const missing = NAMES.find((_, i) => values[i] === null);
  if (missing) throw new ConfigError(missing, `must be set too (or ${missing}_FILE): TLS between peers needs PEER_TLS_CERT, PEER_TLS_KEY and PEER_TLS_CA`);
  const [cert, key, ca] = values as string[];

  const chain = certificates('PEER_TLS_CERT', cert);
  const authorities = certificates('PEER_TLS_CA', ca);
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey(key);
  } catch (e) {
    throw new ConfigError('PEER_TLS_KEY', `is not a PEM private key (${(e as Error).message})`);
  }
  const leaf = chain[0];
  if (!leaf.checkPrivateKey(privateKey)) throw new ConfigError('PEER_TLS_KEY', 'does not belong to the certificate in PEER_TLS_CERT');
  const issuers = [...chain.slice(1), ...authorities];
  if (!issuers.some((issuer) => leaf.checkIssued(issuer) && leaf.verify(issuer.publicKey))) {
    throw new ConfigError('PEER_TLS_CERT', `is not signed by a certificate in PEER_TLS_CA (issuer ${leaf.issuer.replace(/\n/g, ', ')}); peers verify each other against that CA`);
  }
  if (Date.parse(leaf.validTo) < now) throw new ConfigError('PEER_TLS_CERT', `expired on ${leaf.validTo}; issue a new one`);
  if (Date.parse(leaf.validFrom) > now) throw new ConfigError('PEER_TLS_CERT', `is not valid before ${leaf.validFrom}`);
  return { cert, key, ca };
}

/** The host names and addresses a certificate is valid for (its subjectAltName), for messages. */
export function certificateNames(pem: string): string {
  return new X509Certificate(pem).subjectAltName ?? '(no subjectAltName)';
}

function pemSetting(env: Env, name: string): string | null {
  const inline = env[name]?.trim() ?? '';
  const file = env[`${name}_FILE`]?.trim() ?? '';
  if (inline && file) throw new ConfigError(name, `and ${name}_FILE are both set; set only one of them`);
  if (file) {
    const text = readSettingFile(`${name}_FILE`, file);
    if (!text.includes('-----BEGIN')) throw new ConfigError(`${name}_FILE`, `names a file that holds no PEM text (${file})`);
    return text;
  }
  if (!inline) return null;
  // an environment variable rarely keeps line breaks: "\n" written out is accepted too
  const text = inline.replace(/\\n/g, '\n');
  if (!text.includes('-----BEGIN')) throw new ConfigError(name, `must hold PEM text (-----BEGIN ...); to name a file, use ${name}_FILE`);
  return text;
}

function certificates(name: string, pem: string): X509Certificate[] {
  const blocks = pem.match(PEM_BLOCK) ?? [];
  if (blocks.length === 0) throw new ConfigError(name, 'holds no PEM certificate (-----BEGIN CERTIFICATE-----)');
  return blocks.map((block) => {
    try {
      return new X509Certificate(block);
    } catch (e) {
      throw new ConfigError(name, `holds a certificate that cannot be read (${(e as Error).message})`);
    }
  });
}
