import { randomBytes } from 'node:crypto';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { drain } from '../../pipeline/app.js';
import { getBatchKeyRow, rewrapBatchKeys } from '../../pipeline/batch-keys.js';
import { dropFiles } from '../../pipeline/drop.js';
import { createKeyVaultKekProvider } from '../../pipeline/key-vault-provider.js';
import type { BatchManifest } from '../../pipeline/manifest.js';
import { decryptStored } from '../../pipeline/read-part.js';
import { verifyStorage } from '../../pipeline/verify.js';
import {
  createTestCredential,
  startFakeKeyVault,
  type FakeKeyVault,
} from '../helpers/key-vault-server.js';
import { writeSampleFiles } from '../helpers/samples.js';
import { startTestEnvironment, type TestEnvironment } from '../helpers/storage.js';

describe('the Azure Key Vault KEK provider, through the real SDK', () => {
  let vault: FakeKeyVault;
  let env: TestEnvironment;

  const providerWith = (token: string) =>
    createKeyVaultKekProvider({
      keyUrl: `${vault.vaultUrl}/keys/${vault.keyName}`,
      credential: createTestCredential(token),
      // A test CA passed through the SDK pipeline; the challenge names vault.azure.net, not 127.0.0.1.
      clientOptions: {
        tlsOptions: { ca: vault.certificatePem },
        disableChallengeResourceVerification: true,
      },
    });

  beforeAll(async () => {
    vault = await startFakeKeyVault();
    env = await startTestEnvironment();
  });

  afterAll(async () => {
    await env?.close();
    await vault?.close();
  });

  it('wraps and unwraps in the vault after answering the bearer challenge', async () => {
    const credential = createTestCredential(vault.token);
    const provider = createKeyVaultKekProvider({
      keyUrl: `${vault.vaultUrl}/keys/${vault.keyName}`,
      credential,
      clientOptions: {
        tlsOptions: { ca: vault.certificatePem },
        disableChallengeResourceVerification: true,
      },
    });
    const key = new Uint8Array(randomBytes(32));
    const first = vault.requests.length;

    const wrapped = await provider.wrapKey(key, 'batch:test');
    expect(wrapped.kekId).toBe(`${vault.vaultUrl}/keys/${vault.keyName}`);
    expect(wrapped.kekVersion).toMatch(/^[0-9a-f]{32}$/);
    expect(wrapped.wrapAlg).toBe('RSA-OAEP-256');
    expect(Buffer.from(wrapped.wrappedKey, 'base64')).toHaveLength(256);
    expect(await provider.unwrapKey(wrapped, 'batch:test')).toEqual(key);

    expect(
      vault.requests
        .slice(first)
        .map(({ method, path, authorized, status }) => [method, path, authorized, status]),
    ).toEqual([
      // The latest version, by KeyClient; each new client first meets the challenge.
      ['GET', `/keys/${vault.keyName}/`, false, 401],
      ['GET', `/keys/${vault.keyName}/`, true, 200],
      // CryptographyClient reads the public key, finds no local RSA-OAEP-256, asks the vault.
      ['GET', `/keys/${vault.keyName}/${wrapped.kekVersion}`, false, 401],
      ['GET', `/keys/${vault.keyName}/${wrapped.kekVersion}`, true, 200],
      ['POST', `/keys/${vault.keyName}/${wrapped.kekVersion}/wrapkey`, true, 200],
      ['POST', `/keys/${vault.keyName}/${wrapped.kekVersion}/unwrapkey`, true, 200],
    ]);
    expect(new Set(credential.scopes)).toEqual(new Set(['https://vault.azure.net/.default']));
  });

  it('fails with KEY_PROVIDER_FAILED when the vault refuses the token', async () => {
    await expect(
      providerWith('not-the-token').wrapKey(new Uint8Array(32), 'batch:test'),
    ).rejects.toMatchObject({
      code: 'KEY_PROVIDER_FAILED',
      message: 'Key Vault call failed (HTTP 401)',
    });
  });

  it('moves batch keys from the key file to the vault and through a vault rotation', async () => {
    const samples = writeSampleFiles(join(env.homeDir, 'samples'));
    const ingest = async (feedId: string, sample: string) => {
      await dropFiles(env.app.storage, feedId, [samples.get(sample)!]);
      return ((await drain(env.app)).results[0] as { manifest: BatchManifest }).manifest;
    };
    const local = await ingest('lab-feed', 'lab-feed/oru-results.hl7');

    env.app.keyRing!.kekProvider = providerWith(vault.token);
    const onVault = await ingest('adt-feed', 'adt-feed/adt-batch.hl7');
    const firstVersion = (await getBatchKeyRow(env.app.storage, onVault.batchId))!.kekVersion;
    expect((await getBatchKeyRow(env.app.storage, onVault.batchId))!.wrapAlg).toBe('RSA-OAEP-256');
    expect((await getBatchKeyRow(env.app.storage, local.batchId))!.wrapAlg).toBe('A256GCM');

    expect(await rewrapBatchKeys(env.app.storage, env.app.keyRing!)).toEqual({
      rewrapped: 1,
      alreadyCurrent: 1,
      shredded: 0,
    });
    const secondVersion = vault.rotateKey();
    expect(await rewrapBatchKeys(env.app.storage, env.app.keyRing!)).toEqual({
      rewrapped: 2,
      alreadyCurrent: 0,
      shredded: 0,
    });
    for (const manifest of [local, onVault]) {
      const row = (await getBatchKeyRow(env.app.storage, manifest.batchId))!;
      expect([row.wrapAlg, row.kekVersion]).toEqual(['RSA-OAEP-256', secondVersion]);
      const text = await decryptStored(env.app, `output/${manifest.parts[0].path}`);
      expect(text.trimEnd().split('\n')).toHaveLength(manifest.parts[0].recordCount);
    }
    expect(secondVersion).not.toBe(firstVersion);
    expect((await verifyStorage(env.app)).findings).toEqual([]);
  });
});
