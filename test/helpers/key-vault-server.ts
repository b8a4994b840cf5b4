import { execFileSync } from 'node:child_process';
import {
  constants,
  generateKeyPairSync,
  privateDecrypt,
  publicEncrypt,
  randomBytes,
  type KeyObject,
} from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import type { AccessToken, TokenCredential } from '@azure/identity';

/**
 * A loopback stand-in for the few Azure Key Vault REST operations the KEK provider uses, written
 * from the REST reference: get key (`GET /keys/{name}/{version?}`), wrap and unwrap
 * (`POST /keys/{name}/{version}/wrapkey|unwrapkey`, RSA-OAEP-256), and the bearer challenge (a
 * request without the expected token gets 401 with `WWW-Authenticate`). HTTPS with a certificate
 * made by openssl for this run. It is not Key Vault: it only shows our code drives the real SDK.
 */
export interface FakeKeyVault {
  /** `https://127.0.0.1:<port>` */
  vaultUrl: string;
  keyName: string;
  /** PEM of the self-signed certificate, for the SDK's `tlsOptions.ca`. */
  certificatePem: string;
  /** The token requests must carry. */
  token: string;
  /** Every request: method, path without query, and whether it carried the token. */
  requests: Array<{ method: string; path: string; authorized: boolean; status: number }>;
  /** Adds a new key version, which becomes the latest. */
  rotateKey(): string;
  close(): Promise<void>;
}

const CHALLENGE =
  'Bearer authorization="https://login.microsoftonline.com/00000000-0000-0000-0000-000000000000", ' +
  'resource="https://vault.azure.net"';

/**
 * Starts the fake vault on a free loopback port with one RSA key version.
 *
 * @param keyName - the key's name
 */
export async function startFakeKeyVault(keyName = 'phi-ingest-kek'): Promise<FakeKeyVault> {
  const dir = mkdtempSync(join(tmpdir(), 'phi-ingest-kv-'));
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-days',
      '1',
      '-subj',
      '/CN=localhost',
      '-addext',
      'subjectAltName=IP:127.0.0.1,DNS:localhost',
      '-keyout',
      join(dir, 'key.pem'),
      '-out',
      join(dir, 'cert.pem'),
    ],
    { stdio: 'ignore' },
  );
  const certificatePem = readFileSync(join(dir, 'cert.pem'), 'utf8');
  const tlsKey = readFileSync(join(dir, 'key.pem'), 'utf8');
  rmSync(dir, { recursive: true, force: true });

  const versions: Array<{ version: string; privateKey: KeyObject; publicKey: KeyObject }> = [];
  const rotateKey = (): string => {
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const version = randomBytes(16).toString('hex');
    versions.push({ version, privateKey, publicKey });
    return version;
  };
  rotateKey();

  const token = randomBytes(16).toString('hex');
  const requests: FakeKeyVault['requests'] = [];
  let vaultUrl = '';

  const handle = async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    const body = await readBody(request);
    const path = (request.url ?? '').split('?')[0];
    const authorized = request.headers.authorization === `Bearer ${token}`;
    const reply = (status: number, payload: unknown, headers: Record<string, string> = {}) => {
      requests.push({ method: request.method ?? '', path, authorized, status });
      response.writeHead(status, { 'content-type': 'application/json', ...headers });
      response.end(JSON.stringify(payload));
    };
    if (!authorized) {
      reply(
        401,
        { error: { code: 'Unauthorized', message: 'AKV10000: Request is missing a Bearer' } },
        {
          'www-authenticate': CHALLENGE,
        },
      );
      return;
    }

    const match = /^\/keys\/([A-Za-z0-9-]+)(?:\/([0-9a-f]*))?(?:\/(wrapkey|unwrapkey))?\/?$/.exec(
      path,
    );
    const found =
      match && match[1] === keyName
        ? match[2]
          ? versions.find((entry) => entry.version === match[2])
          : versions[versions.length - 1]
        : undefined;
    if (!match || !found) {
      reply(404, {
        error: { code: 'KeyNotFound', message: 'A key with this name or version was not found' },
      });
      return;
    }
    const kid = `${vaultUrl}/keys/${keyName}/${found.version}`;

    if (request.method === 'GET' && !match[3]) {
      const jwk = found.publicKey.export({ format: 'jwk' });
      const now = Math.floor(Date.now() / 1000);
      reply(200, {
        key: { kid, kty: 'RSA', key_ops: ['wrapKey', 'unwrapKey'], n: jwk.n, e: jwk.e },
        attributes: { enabled: true, created: now, updated: now, recoveryLevel: 'Recoverable' },
      });
      return;
    }

    const parsed = JSON.parse(body || '{}') as { alg?: string; value?: string };
    if (
      request.method !== 'POST' ||
      parsed.alg !== 'RSA-OAEP-256' ||
      typeof parsed.value !== 'string'
    ) {
      reply(400, {
        error: { code: 'BadParameter', message: 'Expected alg RSA-OAEP-256 and a value' },
      });
      return;
    }
    const input = Buffer.from(parsed.value, 'base64url');
    const options = { oaepHash: 'sha256', padding: constants.RSA_PKCS1_OAEP_PADDING };
    try {
      const output =
        match[3] === 'wrapkey'
          ? publicEncrypt({ key: found.publicKey, ...options }, input)
          : privateDecrypt({ key: found.privateKey, ...options }, input);
      reply(200, { kid, value: output.toString('base64url') });
    } catch {
      reply(400, { error: { code: 'BadParameter', message: 'The value could not be unwrapped' } });
    }
  };

  const server: Server = createServer(
    { key: tlsKey, cert: certificatePem },
    (request, response) => {
      handle(request, response).catch(() => {
        response.writeHead(500);
        response.end();
      });
    },
  );
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  vaultUrl = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    vaultUrl,
    keyName,
    certificatePem,
    token,
    requests,
    rotateKey,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/**
 * A token credential for the fake vault: hands out a fixed token and records the scopes asked for.
 *
 * @param token - the token to hand out
 */
export function createTestCredential(token: string): TokenCredential & { scopes: string[] } {
  const scopes: string[] = [];
  return {
    scopes,
    getToken: async (requested: string | string[]): Promise<AccessToken> => {
      scopes.push(...(Array.isArray(requested) ? requested : [requested]));
      return { token, expiresOnTimestamp: Date.now() + 3_600_000 };
    },
  };
}

async function readBody(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) {
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}
