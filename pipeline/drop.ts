import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { extname, join } from 'node:path';

import { PipelineError } from './errors.js';
import { getBatchRow, getManifest, getSourceRow, type BatchManifest } from './manifest.js';
import { encodeFileDropped } from './queue-message.js';
import type { Storage } from './storage.js';
import { batchOutcomeText, countText } from './summary.js';

/** A file uploaded to the inbound container and announced on the queue. */
export interface DroppedFile {
  /** The local path it came from (shown to the user who gave it, never logged). */
  localPath: string;
  blobName: string;
  sizeBytes: number;
  /** The first 32 hex digits of its SHA-256 (the blob name's stem), as `sha256sum` prints it. */
  contentSha256: string;
}

/** The files a drop takes from the paths it was given, and how many entries it left out. */
export interface InputFiles {
  /** Regular files, in the order given, each folder's in name order. */
  files: string[];
  /**
   * Entries inside the folders given whose name starts with a dot (`.DS_Store`, editor swap
   * files, `.git`): operating system and editor litter, not a feed's files. A hidden file named
   * on the command line itself is taken.
   */
  hiddenSkipped: number;
  /** Entries that are neither a file nor a folder (sockets, pipes, devices). */
  otherSkipped: number;
}

const FEED_ID_PATTERN = /^[a-z0-9][a-z0-9-]{0,62}$/;

/**
 * Expands paths to the files under them (folders recursively, in name order), counting what it
 * skips. Fails with `NO_INPUT_FILES` when nothing is left to drop, so a wrong folder is never
 * a quiet run over no files.
 *
 * @param paths - files or folders
 */
export function listInputFiles(paths: string[]): InputFiles {
  const inputs: InputFiles = { files: [], hiddenSkipped: 0, otherSkipped: 0 };
  for (const [index, path] of paths.entries()) {
    // By position, not name: a file name can carry a patient's name.
    addInputPath(path, `${index + 1} of ${paths.length}`, false, inputs);
  }
  if (inputs.files.length === 0) {
    const skipped = skippedInputsText(inputs);
    throw new PipelineError(
      'NO_INPUT_FILES',
      `No file to drop in the ${countText(paths.length, 'path')} given` +
        (skipped.length > 0 ? `; ${skipped.join(', ')}` : ''),
    );
  }
  return inputs;
}

/**
 * Says what `listInputFiles` left out, as counts and the reason, never names: nothing when it
 * left nothing out.
 *
 * @param inputs - what `listInputFiles` returned
 */
export function skippedInputsText(inputs: InputFiles): string[] {
  return [
    ...(inputs.hiddenSkipped > 0
      ? [
          `${countText(inputs.hiddenSkipped, 'hidden entry', 'hidden entries')} skipped (names starting with a dot)`,
        ]
      : []),
    ...(inputs.otherSkipped > 0
      ? [`${countText(inputs.otherSkipped, 'entry', 'entries')} skipped (not a file or folder)`]
      : []),
  ];
}

/**
 * Uploads files as a feed would and announces each on the inbound queue. Blobs are named by
 * content hash, keeping only the extension: a source file name can carry a patient's name.
 *
 * @param storage - the opened storage
 * @param feedId - the feed the files belong to
 * @param files - local file paths
 */
export async function dropFiles(
  storage: Storage,
  feedId: string,
  files: string[],
): Promise<DroppedFile[]> {
  if (!FEED_ID_PATTERN.test(feedId)) {
    throw new PipelineError(
      'CONFIG_INVALID',
      'Feed names use lower-case letters, digits and dashes, up to 63 characters',
    );
  }
  const day = new Date().toISOString().slice(0, 10);
  const dropped: DroppedFile[] = [];
  const seen = new Set<string>();
  for (const localPath of files) {
    const content = readFileSync(localPath);
    const digest = createHash('sha256').update(content).digest('hex').slice(0, 32);
    const extension = /^\.[A-Za-z0-9]{1,8}$/.test(extname(localPath))
      ? extname(localPath).toLowerCase()
      : '';
    const blobName = `${feedId}/${day}/${digest}${extension}`;
    if (seen.has(blobName)) {
      // The same bytes twice in one drop: one file, one batch.
      continue;
    }
    seen.add(blobName);

    const response = await storage.inbound.getBlockBlobClient(blobName).uploadData(content);
    await storage.inboundQueue.sendMessage(encodeFileDropped(feedId, blobName, response.etag));
    dropped.push({ localPath, blobName, sizeBytes: content.length, contentSha256: digest });
  }
  return dropped;
}

/**
 * Finds the manifests of the batches that dropped files became, once the queue is drained, so a
 * summary reports on exactly those files whichever orchestrator processed them.
 *
 * @param storage - the opened storage
 * @param feedId - the feed the files were dropped for
 * @param dropped - what `dropFiles` returned
 * @param since - when the drop started; batches committed earlier were duplicates of old drops
 */
export async function manifestsOfDropped(
  storage: Storage,
  feedId: string,
  dropped: DroppedFile[],
  since: Date,
): Promise<{
  manifests: BatchManifest[];
  alreadyIngested: number;
  notFound: number;
  inputs: DroppedInput[];
}> {
  const manifests: BatchManifest[] = [];
  const inputs: DroppedInput[] = [];
  let alreadyIngested = 0;
  let notFound = 0;
  for (const file of dropped) {
    const { contentSha256 } = file;
    const row = await getSourceRow(storage, feedId, file.blobName);
    const batch = row ? await getBatchRow(storage, feedId, row.batchId) : undefined;
    if (!batch) {
      notFound++;
      inputs.push({ contentSha256, outcome: 'not found' });
      continue;
    }
    const manifest = await getManifest(storage, batch.manifestPath);
    if (new Date(manifest.finishedAt) < since) {
      alreadyIngested++;
      inputs.push({ contentSha256, batchId: manifest.batchId, outcome: 'ingested before' });
      continue;
    }
    manifests.push(manifest);
    const outcome = batchOutcomeText({
      ...manifest.counts,
      status: manifest.status,
      reasonCode: manifest.reasonCode,
    });
    inputs.push({ contentSha256, batchId: manifest.batchId, outcome });
  }
  return { manifests, alreadyIngested, notFound, inputs };
}

/** Which batch one dropped file became, named by its content, never by its local name. */
export interface DroppedInput {
  /** The first 32 hex digits of the file's SHA-256, as `sha256sum` prints it. */
  contentSha256: string;
  batchId?: string;
  /**
   * `ok`, `partly rejected`, `all rejected` or `quarantined <reason>` (see `batchOutcomeText`),
   * `ingested before` or `not found`.
   */
  outcome: string;
}

function addInputPath(path: string, position: string, nested: boolean, inputs: InputFiles): void {
  let stats;
  try {
    stats = statSync(path);
  } catch {
    // A folder's entry that vanished or a dangling link: named by the path given, not its name.
    throw new PipelineError(
      'INPUT_NOT_FOUND',
      nested
        ? `An entry under input path ${position} cannot be read`
        : `Input path ${position} does not exist`,
    );
  }
  if (stats.isDirectory()) {
    for (const name of readdirSync(path).sort()) {
      if (name.startsWith('.')) {
        inputs.hiddenSkipped++;
        continue;
      }
      addInputPath(join(path, name), position, true, inputs);
    }
  } else if (stats.isFile()) {
    inputs.files.push(path);
  } else {
    inputs.otherSkipped++;
  }
}
