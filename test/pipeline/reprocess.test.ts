import { spawn } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { drain } from '../../pipeline/app.js';
import { listAuditEvents } from '../../pipeline/audit.js';
import { shredBatchKey } from '../../pipeline/batch-keys.js';
import { dropFiles } from '../../pipeline/drop.js';
import { formatPlan } from '../../pipeline/commands/reprocess.js';
import {
  getBatchRow,
  getManifest,
  type BatchManifest,
  type BatchRow,
} from '../../pipeline/manifest.js';
import { decodePoisonMessage } from '../../pipeline/poison-queue.js';
import { readSealedPart } from '../../pipeline/read-part.js';
import { reprocess } from '../../pipeline/reprocess.js';
import { verifyStorage } from '../../pipeline/verify.js';
import { writeSampleFiles } from '../helpers/samples.js';
import { listBlobs, startTestEnvironment, type TestEnvironment } from '../helpers/storage.js';

const CLI = fileURLToPath(new URL('../../bin/phi-ingest.js', import.meta.url));

async function rowsOf(env: TestEnvironment, feedId: string): Promise<BatchRow[]> {
  const rows: BatchRow[] = [];
  for await (const row of env.app.storage.batchesTable.listEntities<BatchRow>()) {
    if (row.partitionKey === feedId) {
      rows.push(row);
    }
  }
  return rows;
}

async function poisonReasons(env: TestEnvironment): Promise<string[]> {
  const peeked = await env.app.storage.poisonQueue.peekMessages({ numberOfMessages: 32 });
  return peeked.peekedMessageItems
    .map((item) => decodePoisonMessage(item.messageText)?.reasonCode ?? '?')
    .sort();
}

async function plaintextOf(env: TestEnvironment, parts: BatchManifest['parts']): Promise<string[]> {
  const texts: string[] = [];
  for (const part of parts) {
    texts.push(
      Buffer.from(await readSealedPart(env.app, `${part.container}/${part.path}`)).toString('utf8'),
    );
  }
  return texts;
}

describe('reprocess', () => {
  let env: TestEnvironment;
  let date: string;

  beforeAll(async () => {
    env = await startTestEnvironment();
    const samples = writeSampleFiles(join(env.homeDir, 'samples'));
    await dropFiles(env.app.storage, 'adt-feed', [samples.get('adt-feed/adt-batch.hl7')!]);
    await dropFiles(env.app.storage, 'lab-feed', [samples.get('lab-feed/oru-results.hl7')!]);
    await dropFiles(env.app.storage, 'bad-feed', [
      samples.get('bad-feed/corrupt.hl7')!,
      samples.get('bad-feed/unknown.bin')!,
    ]);
    await drain(env.app);
    date = (await rowsOf(env, 'lab-feed'))[0].ingestDate;
  });

  afterAll(async () => {
    await env?.close();
  });

  it('writes version 2 of one batch beside version 1, with byte-identical plaintext', async () => {
    const [row] = await rowsOf(env, 'lab-feed');
    const v1 = await getManifest(env.app.storage, row.manifestPath);

    const report = await reprocess(env.app, { selection: { batchId: row.rowKey } });

    expect(
      report.outcomes.map((outcome) => [outcome.status, outcome.fromVersion, outcome.version]),
    ).toEqual([['committed', 1, 2]]);
    const after = (await getBatchRow(env.app.storage, 'lab-feed', row.rowKey))!;
    expect(after.version).toBe(2);
    expect(after.manifestPath).toBe(
      `feed=lab-feed/date=${date}/batch=${row.rowKey}.v2/manifest.json`,
    );
    const v2 = await getManifest(env.app.storage, after.manifestPath);
    expect(v2.version).toBe(2);
    expect(v2.supersedes).toEqual({ version: 1, manifestPath: row.manifestPath });
    expect(v2.reprocess).toEqual({ runId: report.plan.runId, from: 'archive', replace: false });
    expect(v2.archive).toEqual(v1.archive);
    expect(v2.counts).toEqual({
      ...v1.counts,
      writtenByPartition: { [`feed=lab-feed/type=ORU_R01/date=${date}/batch=${row.rowKey}.v2`]: 5 },
    });
    expect(v2.parts.map((part) => part.path)).toEqual([
      `feed=lab-feed/type=ORU_R01/date=${date}/batch=${row.rowKey}.v2/part-00000.ndjson.gz.enc`,
    ]);

    // Same rules and keys: the same plaintext. The ciphertext differs (fresh data key and nonces).
    expect(await plaintextOf(env, v2.parts)).toEqual(await plaintextOf(env, v1.parts));
    expect(v2.parts[0].sha256).not.toBe(v1.parts[0].sha256);
    expect((await listBlobs(env, 'output')).has(v1.parts[0].path)).toBe(true);

    const events = (await listAuditEvents(env.app.storage, { feedId: 'lab-feed' })).filter(
      (event) => event.batchId === row.rowKey && event.action === 'reprocess',
    );
    expect(events.map((event) => [event.action, event.outcome, event.target])).toEqual([
      ['reprocess', 'succeeded', `archive/${v1.archive!.path}`],
      ['reprocess', 'succeeded', `manifests/${after.manifestPath}`],
    ]);
    expect(events[1].detail).toMatchObject({
      runId: report.plan.runId,
      fromVersion: 1,
      version: 2,
      from: 'archive',
    });
  });

  it('lists what it would do on a dry run and writes nothing', async () => {
    const manifestsBefore = await listBlobs(env, 'manifests');
    const [row] = await rowsOf(env, 'adt-feed');
    const v1 = await getManifest(env.app.storage, row.manifestPath);

    const report = await reprocess(env.app, {
      selection: { feedId: 'adt-feed', fromDate: date, toDate: date },
      dryRun: true,
    });

    expect(report.outcomes).toEqual([]);
    expect(report.plan.batches.map((batch) => ({ ...batch }))).toEqual([
      {
        feedId: 'adt-feed',
        batchId: row.rowKey,
        ingestDate: date,
        fromVersion: 1,
        targetVersion: 2,
        from: 'archive',
        manifestPath: row.manifestPath,
        sizeBytes: v1.source.sizeBytes,
        messageCount: v1.counts.messagesIn,
        poisonMessage: undefined,
        state: 'planned',
      },
    ]);
    expect(await listBlobs(env, 'manifests')).toEqual(manifestsBefore);
  });

  it('selects a feed by date range and, with --replace, removes the older version', async () => {
    const empty = await reprocess(env.app, {
      selection: { feedId: 'adt-feed', fromDate: '2000-01-01', toDate: '2000-01-02' },
    });
    expect(empty.outcomes).toEqual([]);

    const [row] = await rowsOf(env, 'adt-feed');
    const v1 = await getManifest(env.app.storage, row.manifestPath);
    const report = await reprocess(env.app, {
      selection: { feedId: 'adt-feed', fromDate: date, toDate: date },
      replace: true,
    });

    expect(
      report.outcomes.map((outcome) => [outcome.batchId, outcome.status, outcome.version]),
    ).toEqual([[row.rowKey, 'committed', 2]]);
    const output = await listBlobs(env, 'output');
    for (const part of v1.parts) {
      expect(output.has(part.path)).toBe(false);
    }
    const v2 = await getManifest(
      env.app.storage,
      (await getBatchRow(env.app.storage, 'adt-feed', row.rowKey))!.manifestPath,
    );
    expect(v2.parts.every((part) => output.has(part.path))).toBe(true);
    expect(v2.counts.written).toBe(v1.counts.written);
    // The v1 manifest stays as the record; the shared archive stays.
    expect((await listBlobs(env, 'manifests')).has(row.manifestPath)).toBe(true);
    expect((await listBlobs(env, 'archive')).has(v1.archive!.path)).toBe(true);

    // The parts --replace removed on purpose are not tamper findings; a part deleted by hand is.
    expect((await verifyStorage(env.app, { feedId: 'adt-feed' })).findings).toEqual([]);
    await env.app.storage.output.getBlobClient(v2.parts[0].path).delete();
    const tampered = await verifyStorage(env.app, { feedId: 'adt-feed' });
    expect(tampered.findings.map((finding) => [finding.code, finding.path])).toEqual([
      ['PART_MISSING', `output/${v2.parts[0].path}`],
    ]);
  });

  it('replays the poison queue once the rule is fixed, and removes only replayed messages', async () => {
    expect(await poisonReasons(env)).toEqual(['FORMAT_UNKNOWN', 'HL7_BATCH_COUNT_MISMATCH']);

    const unfixed = await reprocess(env.app, { selection: { poison: true } });
    expect(unfixed.outcomes.map((outcome) => [outcome.status, outcome.reasonCode]).sort()).toEqual([
      ['failed', 'FORMAT_UNKNOWN'],
      ['failed', 'HL7_BATCH_COUNT_MISMATCH'],
    ]);
    expect(await poisonReasons(env)).toEqual(['FORMAT_UNKNOWN', 'HL7_BATCH_COUNT_MISMATCH']);

    writeFileSync(
      env.app.config.feedsFile,
      JSON.stringify({ feeds: { 'bad-feed': { acceptBatchCountMismatch: true } } }),
    );
    const fixed = await reprocess(env.app, { selection: { poison: true } });

    expect(fixed.plan.resumed).toBe(false);
    const replayed = fixed.outcomes.find((outcome) => outcome.status === 'committed')!;
    expect(
      fixed.outcomes.map((outcome) => [outcome.status, outcome.reasonCode ?? '']).sort(),
    ).toEqual([
      ['committed', ''],
      ['failed', 'FORMAT_UNKNOWN'],
    ]);
    expect(replayed).toMatchObject({ feedId: 'bad-feed', fromVersion: 1, version: 2 });
    expect(replayed.counts!.messagesIn).toBe(replayed.counts!.written + replayed.counts!.rejected);
    expect(replayed.counts!.messagesIn).toBeGreaterThan(0);
    expect(await poisonReasons(env)).toEqual(['FORMAT_UNKNOWN']);

    const row = (await getBatchRow(env.app.storage, 'bad-feed', replayed.batchId))!;
    expect(row).toMatchObject({ status: 'committed', version: 2 });
    const v2 = await getManifest(env.app.storage, row.manifestPath);
    expect(v2.reprocess?.from).toBe('quarantine');
    expect(v2.batchCountMismatch).toBeDefined();
    // The replayed input is now archived, so a later fix can reprocess it from the archive.
    expect(v2.archive!.path).toBe(
      `feed=bad-feed/date=${date}/batch=${replayed.batchId}/source.gz.enc`,
    );
  });

  it('refuses an ambiguous or malformed selection with a clear code', async () => {
    await expect(reprocess(env.app, { selection: {} })).rejects.toMatchObject({
      code: 'REPROCESS_SELECTION_INVALID',
    });
    await expect(
      reprocess(env.app, { selection: { batchId: '0'.repeat(32), poison: true } }),
    ).rejects.toMatchObject({ code: 'REPROCESS_SELECTION_INVALID' });
    await expect(
      reprocess(env.app, {
        selection: { feedId: 'lab-feed', fromDate: '2026-02-30x', toDate: date },
      }),
    ).rejects.toMatchObject({ code: 'REPROCESS_SELECTION_INVALID' });
    await expect(
      reprocess(env.app, { selection: { batchId: '0'.repeat(32) } }),
    ).rejects.toMatchObject({
      code: 'BATCH_NOT_FOUND',
    });
  });

  it('refuses a feed with no batches that the feeds file does not name, with FEED_NOT_FOUND', async () => {
    const range = { fromDate: '2000-01-01', toDate: '2000-01-02' };
    for (const dryRun of [true, false]) {
      await expect(
        reprocess(env.app, { selection: { feedId: 'lab-fed', ...range }, dryRun }),
      ).rejects.toMatchObject({
        code: 'FEED_NOT_FOUND',
        message:
          'Feed lab-fed has no batches on any date and is not in the feeds file; check its name',
      });
    }
    const cli = await runCli(env, [
      'reprocess',
      '--feed',
      'lab-fed',
      '--from',
      date,
      '--to',
      date,
      '--dry-run',
    ]);
    expect([cli.code, cli.stdout]).toEqual([1, '']);
    expect(cli.stderr).toBe(
      'phi-ingest: FEED_NOT_FOUND: Feed lab-fed has no batches on any date and is not in the ' +
        'feeds file; check its name\n',
    );

    // A known feed with nothing in the range is a plan of nothing: by its batches on other
    // dates, or by its entry in the feeds file before its first batch.
    const known = await reprocess(env.app, {
      selection: { feedId: 'lab-feed', ...range },
      dryRun: true,
    });
    expect([known.plan.batches, known.plan.skipped]).toEqual([[], []]);
    const feedsFile = env.app.config.feedsFile;
    const feedsBefore = existsSync(feedsFile) ? readFileSync(feedsFile, 'utf8') : undefined;
    writeFileSync(feedsFile, JSON.stringify({ feeds: { 'new-feed': {} } }));
    try {
      const configured = await reprocess(env.app, {
        selection: { feedId: 'new-feed', ...range },
        dryRun: true,
      });
      expect(configured.plan.batches).toEqual([]);
    } finally {
      if (feedsBefore === undefined) {
        rmSync(feedsFile);
      } else {
        writeFileSync(feedsFile, feedsBefore);
      }
    }
  });
});

describe('reprocess around a shredded batch', () => {
  let env: TestEnvironment;
  let date: string;
  let shredded: string;
  let kept: string;

  beforeAll(async () => {
    env = await startTestEnvironment();
    const samples = writeSampleFiles(join(env.homeDir, 'samples'));
    await dropFiles(env.app.storage, 'shred-feed', [
      samples.get('fhir-feed/observations.ndjson')!,
      samples.get('fhir-feed/patients-bundle.json')!,
    ]);
    await drain(env.app);
    const rows = (await rowsOf(env, 'shred-feed')).sort((a, b) => a.rowKey.localeCompare(b.rowKey));
    expect(rows).toHaveLength(2);
    [shredded, kept] = rows.map((row) => row.rowKey);
    date = rows[0].ingestDate;
    expect(await shredBatchKey(env.app.storage, shredded, 'test-operator')).toBe('shredded');
  });

  afterAll(async () => {
    await env?.close();
  });

  it('lists a shredded batch as skipped in the dry run and plans the others', async () => {
    const report = await reprocess(env.app, {
      selection: { feedId: 'shred-feed', fromDate: date, toDate: date },
      dryRun: true,
    });

    expect(report.plan.batches.map((batch) => [batch.batchId, batch.targetVersion])).toEqual([
      [kept, 2],
    ]);
    expect(report.plan.skipped).toEqual([
      { feedId: 'shred-feed', batchId: shredded, reasonCode: 'BATCH_KEY_SHREDDED' },
    ]);
    // Each column starts where its header does: the widest cell sets a column's width.
    const planned = report.plan.batches[0];
    const size = String(planned.sizeBytes);
    const count = String(planned.messageCount);
    expect(formatPlan(report.plan)).toBe(
      [
        `feed        ${'batch'.padEnd(32)}  date        version   from     ` +
          `${'bytes'.padEnd(size.length)}  messages`,
        `shred-feed  ${kept}  ${date}  v1 -> v2  archive  ${size.padEnd(5)}  ${count}`,
        '',
        'skipped:',
        `feed        ${'batch'.padEnd(32)}  reason`,
        `shred-feed  ${shredded}  BATCH_KEY_SHREDDED`,
        '',
        `would reprocess 1 batch, ${size} bytes of input, ${count} messages in their current ` +
          'versions; 0 poison messages would be removed once their batch succeeds, 1 skipped',
        '',
      ].join('\n'),
    );
  });

  it('reprocesses the rest of the date range, reports the skip and exits 0', async () => {
    const run = await runCli(env, [
      'reprocess',
      '--feed',
      'shred-feed',
      '--from',
      date,
      '--to',
      date,
    ]);

    expect(run.stderr).not.toContain('phi-ingest:');
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(
      `\nfeed        ${'batch'.padEnd(32)}  version   status     in  written  rejected\n` +
        `shred-feed  ${kept}  v1 -> v2  committed  `,
    );
    expect(run.stdout).toContain(
      `\n\nskipped:\nfeed        ${'batch'.padEnd(32)}  reason\n` +
        `shred-feed  ${shredded}  BATCH_KEY_SHREDDED\n`,
    );
    expect(run.stdout).toContain('\n1 batch reprocessed, 0 already done, 0 failed, 1 skipped\n');
    expect(
      (await rowsOf(env, 'shred-feed'))
        .map((row) => [row.rowKey, row.version])
        .sort((a, b) => String(a[0]).localeCompare(String(b[0]))),
    ).toEqual([
      [shredded, 1],
      [kept, 2],
    ]);
    // Nothing tried to read the shredded batch's archive.
    const events = await listAuditEvents(env.app.storage, { feedId: 'shred-feed' });
    expect(events.filter((event) => event.batchId === shredded)).toEqual([]);
  });

  it('refuses --batch naming a shredded batch with BATCH_KEY_SHREDDED', async () => {
    for (const dryRun of [true, false]) {
      await expect(
        reprocess(env.app, { selection: { batchId: shredded }, dryRun }),
      ).rejects.toMatchObject({ code: 'BATCH_KEY_SHREDDED' });
    }
    const run = await runCli(env, ['reprocess', '--batch', shredded]);
    expect(run.code).toBe(1);
    expect(run.stderr.trim()).toBe(
      'phi-ingest: BATCH_KEY_SHREDDED: The batch was shredded; its stored input can never be ' +
        'read again, so it cannot be reprocessed',
    );
  });
});

/** Runs the CLI in its own process against the test environment's storage. */
function runCli(
  env: TestEnvironment,
  args: string[],
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [CLI, ...args], {
    env: {
      PATH: process.env.PATH,
      PHI_INGEST_STORAGE_CONNECTION_STRING: env.azurite.connectionString,
      PHI_INGEST_HOME: env.homeDir,
      PHI_INGEST_MAX_THREADS: '1',
      PHI_INGEST_LOG_LEVEL: 'silent',
    },
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  return new Promise((resolve) => child.once('close', (code) => resolve({ code, stdout, stderr })));
}

/** Runs `phi-ingest reprocess` in its own process, crashing at a failpoint. */
function reprocessUntilCrash(
  env: TestEnvironment,
  args: string[],
  failpoint: string,
): Promise<NodeJS.Signals | null> {
  const child = spawn(process.execPath, [CLI, 'reprocess', ...args], {
    env: {
      PATH: process.env.PATH,
      PHI_INGEST_STORAGE_CONNECTION_STRING: env.azurite.connectionString,
      PHI_INGEST_HOME: env.homeDir,
      PHI_INGEST_TEST_FAILPOINT: failpoint,
      // One batch at a time, so the kill lands after exactly one.
      PHI_INGEST_CONCURRENT_FILES: '1',
      PHI_INGEST_MAX_THREADS: '1',
      PHI_INGEST_LOG_LEVEL: 'silent',
    },
    stdio: 'ignore',
  });
  return new Promise((resolve) => child.once('exit', (_code, signal) => resolve(signal)));
}

describe('reprocess after a kill', () => {
  let env: TestEnvironment;
  let date: string;

  beforeAll(async () => {
    env = await startTestEnvironment();
    const samples = writeSampleFiles(join(env.homeDir, 'samples'));
    for (const feedId of ['kill-a', 'kill-b', 'kill-c']) {
      await dropFiles(env.app.storage, feedId, [
        samples.get('fhir-feed/observations.ndjson')!,
        samples.get('fhir-feed/patients-bundle.json')!,
      ]);
    }
    await drain(env.app);
    date = (await rowsOf(env, 'kill-a'))[0].ingestDate;
  });

  afterAll(async () => {
    await env?.close();
  });

  const manifestsOf = async (feedId: string): Promise<string[]> =>
    [...(await listBlobs(env, 'manifests')).keys()]
      .filter((name) => name.startsWith(`feed=${feedId}/`))
      .sort();

  it('resumes where it stopped and does not write a finished batch again', async () => {
    const args = ['--feed', 'kill-a', '--from', date, '--to', date];
    expect(await reprocessUntilCrash(env, args, 'reprocess-batch-done')).toBe('SIGKILL');
    const versionsAfterKill = (await rowsOf(env, 'kill-a')).map((row) => row.version).sort();
    expect(versionsAfterKill).toEqual([1, 2]);
    const firstDone = await listBlobs(env, 'manifests');

    // A dry run now shows what the same command will do: resume that run, one batch left.
    const preview = await reprocess(env.app, {
      selection: { feedId: 'kill-a', fromDate: date, toDate: date },
      dryRun: true,
    });
    expect(preview.plan.resumed).toBe(true);
    expect(preview.plan.batches.map((batch) => batch.state).sort()).toEqual(['done', 'planned']);
    const text = formatPlan(preview.plan);
    expect(text).toMatch(new RegExp(`^resumes interrupted run ${preview.plan.runId}\nfeed  `));
    expect(text).toContain('would reprocess 1 batch,');
    expect(text).toContain('(done in that run)');

    const report = await reprocess(env.app, {
      selection: { feedId: 'kill-a', fromDate: date, toDate: date },
    });

    expect(report.plan.resumed).toBe(true);
    expect(report.outcomes.map((outcome) => outcome.status).sort()).toEqual([
      'already-done',
      'committed',
    ]);
    expect((await rowsOf(env, 'kill-a')).map((row) => row.version)).toEqual([2, 2]);
    const names = await manifestsOf('kill-a');
    expect(names.filter((name) => name.includes('.v2/'))).toHaveLength(2);
    expect(names.some((name) => name.includes('.v3/'))).toBe(false);
    // The batch finished before the kill was not rewritten: its manifest blob is untouched.
    const done = report.outcomes.find((outcome) => outcome.status === 'already-done')!;
    const donePath = names.find((name) => name.includes(`batch=${done.batchId}.v2/`))!;
    expect((await listBlobs(env, 'manifests')).get(donePath)).toBe(firstDone.get(donePath));

    // The run is finished: the same command now starts a new run, which writes version 3.
    const again = await reprocess(env.app, {
      selection: { feedId: 'kill-a', fromDate: date, toDate: date },
      dryRun: true,
    });
    expect(again.plan.resumed).toBe(false);
    expect(again.plan.batches.map((batch) => batch.targetVersion)).toEqual([3, 3]);
  });

  it('rewrites the same paths after a kill between outputs and commit, and commits once', async () => {
    const args = ['--feed', 'kill-b', '--from', date, '--to', date];
    expect(await reprocessUntilCrash(env, args, 'after-outputs-written')).toBe('SIGKILL');
    expect((await rowsOf(env, 'kill-b')).map((row) => row.version)).toEqual([1, 1]);
    const v2Before = [...(await listBlobs(env, 'output')).keys()].filter(
      (name) => name.startsWith('feed=kill-b/') && name.includes('.v2/'),
    );
    expect(v2Before.length).toBeGreaterThan(0);

    const report = await reprocess(env.app, {
      selection: { feedId: 'kill-b', fromDate: date, toDate: date },
    });

    expect(report.plan.resumed).toBe(true);
    expect(report.outcomes.map((outcome) => [outcome.status, outcome.version])).toEqual([
      ['committed', 2],
      ['committed', 2],
    ]);
    const v2After = [...(await listBlobs(env, 'output')).keys()].filter(
      (name) => name.startsWith('feed=kill-b/') && name.includes('.v2/'),
    );
    expect(v2After).toEqual(expect.arrayContaining(v2Before));
    expect(v2After.some((name) => name.includes('.v3/'))).toBe(false);
    const names = await manifestsOf('kill-b');
    expect(names.filter((name) => name.includes('.v2/'))).toHaveLength(2);
  });

  it('finishes a version chained before the kill from the chain, without writing it again', async () => {
    const args = ['--feed', 'kill-c', '--from', date, '--to', date];
    expect(await reprocessUntilCrash(env, args, 'after-manifest-chained')).toBe('SIGKILL');
    // The first batch's v2 is in the chain, its rows are not: the table still says v1.
    expect((await rowsOf(env, 'kill-c')).map((row) => row.version)).toEqual([1, 1]);
    const isV2 = (name: string): boolean =>
      name.startsWith('feed=kill-c/') && name.includes('.v2/');
    const outputBefore = new Map(
      [...(await listBlobs(env, 'output'))].filter(([name]) => isV2(name)),
    );
    expect(outputBefore.size).toBeGreaterThan(0);

    const report = await reprocess(env.app, {
      selection: { feedId: 'kill-c', fromDate: date, toDate: date },
    });

    expect(report.outcomes.map((outcome) => [outcome.status, outcome.version])).toEqual([
      ['committed', 2],
      ['committed', 2],
    ]);
    expect((await rowsOf(env, 'kill-c')).map((row) => row.version)).toEqual([2, 2]);
    // What the killed run wrote stands as written (same etags), and matches its manifest.
    const outputAfter = await listBlobs(env, 'output');
    for (const [name, etag] of outputBefore) {
      expect(outputAfter.get(name)).toBe(etag);
    }
    expect((await verifyStorage(env.app, { feedId: 'kill-c' })).findings).toEqual([]);
  });
});
