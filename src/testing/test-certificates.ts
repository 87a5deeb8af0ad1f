import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

/** Files of one small CA and the node certificates it signed, made with openssl as the operators' guide does. */
export interface TestPki {
  dir: string;
  caCert: string;
  /** cert and key file of each node, by name */
  nodes: Record<string, { cert: string; key: string }>;
  remove(): void;
}

/**
 * A CA (`ca.crt`, `ca.key`) and one certificate per node, valid for `names` (host names or IP
 * addresses, e.g. 127.0.0.1) for 30 days, made by /usr/bin/openssl in a temp directory.
 */
export function makeTestPki(nodes: Record<string, string[]>): TestPki {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'chat-pki-'));
  const file = (name: string) => path.join(dir, name);
  const openssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];
  openssl('req', '-x509', ...ec, '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '30', '-subj', '/CN=chat test CA');
  const made: TestPki['nodes'] = {};
  for (const [node, names] of Object.entries(nodes)) {
    const san = names.map((n) => (/^[\d.]+$|:/.test(n) ? `IP:${n}` : `DNS:${n}`)).join(',');
    fs.writeFileSync(file(`${node}.ext`), `subjectAltName=${san}\n`);
    openssl('req', ...ec, '-keyout', `${node}.key`, '-out', `${node}.csr`, '-subj', `/CN=${node}`);
    openssl('x509', '-req', '-in', `${node}.csr`, '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', `${node}.crt`, '-days', '30', '-extfile', `${node}.ext`);
    made[node] = { cert: file(`${node}.crt`), key: file(`${node}.key`) };
  }
  return { dir, caCert: file('ca.crt'), nodes: made, remove: () => fs.rmSync(dir, { recursive: true, force: true }) };
}
