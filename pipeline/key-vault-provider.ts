import { Buffer } from 'node:buffer';

import type { TokenCredential } from '@azure/identity';
import {
  CryptographyClient,
  KeyClient,
  type CryptographyClientOptions,
} from '@azure/keyvault-keys';

import { PipelineError } from './errors.js';
import type { KekProvider, WrappedKeyRecord } from './kek-provider.js';

// Limitation: tested only against test/helpers/key-vault-server.ts through the real SDK, never
// against a real vault; the first run against one should be watched.

/** RSA-OAEP with SHA-256: supported by every vault key type that can wrap (RSA, RSA-HSM). */
const WRAP_ALGORITHM = 'RSA-OAEP-256';

export interface KeyVaultProviderOptions {
  /** The key's URL without a version: `https://<vault>.vault.azure.net/keys/<name>`. */
  keyUrl: string;
  credential: TokenCredential;
  /**
   * Passed to the SDK clients. Tests use it for `tlsOptions` (a test CA) and
   * `disableChallengeResourceVerification` (a loopback host); production leaves it unset.
   */
  clientOptions?: CryptographyClientOptions;
}

/**
 * A KEK provider over an Azure Key Vault key: wrap and unwrap run in the vault
 * (`POST /keys/{name}/{version}/wrapkey` and `/unwrapkey`), so the KEK never leaves it. The
 * current version is the key's latest version; rotate it in the vault.
 *
 * @param options - the key URL, a credential and client options
 */
export function createKeyVaultKekProvider(options: KeyVaultProviderOptions): KekProvider {
  const { vaultUrl, keyName } = parseKeyUrl(options.keyUrl);
  const keyClient = new KeyClient(vaultUrl, options.credential, options.clientOptions);
  const kekId = `${vaultUrl}/keys/${keyName}`;
  const cryptoClients = new Map<string, CryptographyClient>();

  const clientFor = (version: string): CryptographyClient => {
    let client = cryptoClients.get(version);
    if (!client) {
      client = new CryptographyClient(
        `${kekId}/${version}`,
        options.credential,
        options.clientOptions,
      );
      cryptoClients.set(version, client);
    }
    return client;
  };

  const currentVersion = async (): Promise<string> => {
    const key = await vaultCall(() => keyClient.getKey(keyName));
    if (!key.properties.version) {
      throw new PipelineError('KEY_PROVIDER_FAILED', 'Key Vault returned a key without a version');
    }
    return key.properties.version;
  };

  return {
    kind: 'key-vault',
    kekId,
    currentVersion,

    wrapKey: async (key) => {
      const version = await currentVersion();
      const result = await vaultCall(() => clientFor(version).wrapKey(WRAP_ALGORITHM, key));
      return {
        kekId,
        kekVersion: version,
        wrapAlg: WRAP_ALGORITHM,
        wrappedKey: Buffer.from(result.result).toString('base64'),
      };
    },

    unwrapKey: async (record: WrappedKeyRecord) => {
      if (record.kekId !== kekId || record.wrapAlg !== WRAP_ALGORITHM) {
        throw new PipelineError('KEY_UNKNOWN', 'The batch key was wrapped by another KEK');
      }
      const wrapped = Buffer.from(record.wrappedKey, 'base64');
      const result = await vaultCall(() =>
        clientFor(record.kekVersion).unwrapKey(WRAP_ALGORITHM, wrapped),
      );
      return new Uint8Array(result.result);
    },
  };
}

function parseKeyUrl(keyUrl: string): { vaultUrl: string; keyName: string } {
  const match = /^(https:\/\/[^/]+)\/keys\/([A-Za-z0-9-]{1,127})\/?$/.exec(keyUrl);
  if (!match) {
    throw new PipelineError(
      'CONFIG_INVALID',
      'PHI_INGEST_KEY_VAULT_KEY_URL must be https://<vault>/keys/<name>, without a version',
    );
  }
  return { vaultUrl: match[1], keyName: match[2] };
}

async function vaultCall<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (cause) {
    const status = (cause as { statusCode?: number }).statusCode;
    // Throttling and outages pass; a 4xx (forbidden, not found, bad key) will not.
    const retryable = status === undefined || status === 429 || status >= 500;
    throw new PipelineError(
      'KEY_PROVIDER_FAILED',
      `Key Vault call failed (HTTP ${status ?? 'none'})`,
      {
        retryable,
        cause,
      },
    );
  }
}

/**
 * The Key Vault provider as configured by `PHI_INGEST_KEY_VAULT_KEY_URL`, signed in with
 * `DefaultAzureCredential` (loaded only here: it may probe the instance metadata address).
 *
 * @param keyUrl - the key's URL without a version
 */
export async function createConfiguredKeyVaultProvider(keyUrl: string): Promise<KekProvider> {
  const { DefaultAzureCredential } = await import('@azure/identity');
  return createKeyVaultKekProvider({ keyUrl, credential: new DefaultAzureCredential() });
}
