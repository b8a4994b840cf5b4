import {
  compressesInPieces,
  compressionSuffix,
  type Compression,
} from '../transforms/compression.js';
import type { EncryptEnvelopeOptions } from '../transforms/crypto/index.js';
import type { BatchManifest, StoredPart } from './manifest.js';
import { SealedBlobWriter } from './sealed-blob-writer.js';
import { STORAGE_NAMES, type Storage } from './storage.js';
import type { EncodedTransformOutcome } from '../workers/task-types.js';

/** Where a batch version's outputs go, and how they are sealed. */
export interface BatchOutputsOptions {
  storage: Storage;
  /** Envelope options shared by every object of the batch version (one data key). */
  envelope: EncryptEnvelopeOptions;
  compression: Compression;
  partMaxRecords: number;
  /** `feed=…/type=` is added per record type; this is what follows the type. */
  partitionOf: (recordType: string) => string;
  /** Folder of the reject part. */
  rejectFolder: string;
  /** Archive path to write, or undefined when the archive is stored already. */
  archivePath?: string;
}

/** What a batch version wrote, for its manifest. */
export interface WrittenOutputs {
  parts: StoredPart[];
  rejectParts: StoredPart[];
  archive?: StoredPart;
  counts: BatchManifest['counts'];
}

interface OpenPart {
  index: number;
  path: string;
  recordCount: number;
  writer: SealedBlobWriter;
}

/**
 * Takes a batch version's transform outcomes in input order and streams them out as they come:
 * each record type's part is written (compressed, sealed, staged) while it fills, and closed
 * once the next group would take it past `partMaxRecords` (a part holds whole groups, and as
 * many as fit); rejects go to one streamed reject part, and the archive
 * is streamed from the tasks' compressed pieces (gzip) or from the source bytes (brotli). Memory
 * stays at a few blocks per open object, whatever the file's size. Closed parts stay staged,
 * invisible, until `finish` commits them all, just before the manifest: a run killed part-way
 * leaves no part a reader could list.
 */
export class BatchOutputs {
  private readonly open = new Map<string, OpenPart>();
  private readonly nextIndex = new Map<string, number>();
  private readonly stagedParts: Array<Promise<StoredPart & { recordType: string }>> = [];
  private readonly committedPaths: string[] = [];
  /** Closed parts' writers, staged and waiting for `finish` to commit them. */
  private readonly closed: SealedBlobWriter[] = [];
  private rejects: SealedBlobWriter | undefined;
  private rejectCount = 0;
  private readonly rejectedByReason: Record<string, number> = {};
  private readonly archive: SealedBlobWriter | undefined;
  private messagesIn = 0;
  private unknownElementsRemoved = 0;

  constructor(private readonly options: BatchOutputsOptions) {
    if (options.archivePath) {
      const pieces = compressesInPieces(options.compression);
      this.archive = this.writer(
        STORAGE_NAMES.archiveContainer,
        options.archivePath,
        pieces ? null : options.compression,
      );
    }
  }

  /** True when the archive is written from the transform tasks' compressed pieces. */
  get archiveInPieces(): boolean {
    return this.archive !== undefined && compressesInPieces(this.options.compression);
  }

  /**
   * Adds raw source bytes to the archive (when it is not written from pieces), in file order.
   *
   * @param bytes - the next bytes of the source
   */
  async addSource(bytes: Uint8Array): Promise<void> {
    if (this.archive && !this.archiveInPieces) {
      await this.archive.write(bytes);
    }
  }

  /**
   * Adds one transform task's outcome; outcomes must come in task order.
   *
   * @param outcome - the task's groups, rejects and archive piece
   */
  async addOutcome(outcome: EncodedTransformOutcome): Promise<void> {
    this.messagesIn += outcome.messageCount;
    this.unknownElementsRemoved += outcome.unknownElementsRemoved;
    if (outcome.archivePiece && this.archive) {
      await this.archive.write(outcome.archivePiece);
    }
    for (const group of outcome.groups) {
      let part = this.open.get(group.recordType);
      if (part && part.recordCount + group.recordCount > this.options.partMaxRecords) {
        this.closePart(group.recordType, part);
        part = undefined;
      }
      part ??= this.openPart(group.recordType);
      await part.writer.write(group.bytes);
      part.recordCount += group.recordCount;
    }
    if (outcome.rejects.length > 0) {
      this.rejects ??= this.writer(
        STORAGE_NAMES.rejectsContainer,
        `${this.options.rejectFolder}/rejects-00000.ndjson${this.suffix()}.enc`,
        this.options.compression,
      );
      const text = outcome.rejects.map((reject) => `${JSON.stringify(reject)}\n`).join('');
      await this.rejects.write(Buffer.from(text, 'utf8'));
      for (const reject of outcome.rejects) {
        this.rejectedByReason[reject.code] = (this.rejectedByReason[reject.code] ?? 0) + 1;
      }
      this.rejectCount += outcome.rejects.length;
    }
  }

  /** Commits every open object and returns what was written. */
  async finish(): Promise<WrittenOutputs> {
    for (const [recordType, part] of [...this.open]) {
      this.closePart(recordType, part);
    }
    const rejectPath = `${this.options.rejectFolder}/rejects-00000.ndjson${this.suffix()}.enc`;
    // Parts, rejects and the archive end at once: each waits only for its own last blocks.
    const [parts, rejectParts, archive] = await Promise.all([
      this.commitParts(),
      this.rejects ? this.finishOne(this.rejects, 'rejects', rejectPath, this.rejectCount) : [],
      this.archive && this.options.archivePath
        ? this.finishOne(this.archive, 'archive', this.options.archivePath, 1)
        : [],
    ]);
    // The order the whole-file path gave: by record type, then part number.
    parts.sort((a, b) =>
      a.recordType === b.recordType
        ? a.path < b.path
          ? -1
          : 1
        : a.recordType < b.recordType
          ? -1
          : 1,
    );
    const writtenByPartition: Record<string, number> = {};
    for (const part of parts) {
      const partition = part.path.slice(0, part.path.lastIndexOf('/'));
      writtenByPartition[partition] = (writtenByPartition[partition] ?? 0) + part.recordCount;
    }
    return {
      parts,
      rejectParts,
      archive: archive[0],
      counts: {
        messagesIn: this.messagesIn,
        written: parts.reduce((sum, part) => sum + part.recordCount, 0),
        rejected: this.rejectCount,
        writtenByPartition,
        rejectedByReason: this.rejectedByReason,
        unknownElementsRemoved: this.unknownElementsRemoved,
      },
    };
  }

  /**
   * Stops every open object and deletes any part already committed (only `finish` commits, so
   * only a failure inside it leaves any), so that a file that fails leaves no output a reader
   * could take for a batch (its manifest never commits).
   */
  async abort(): Promise<void> {
    for (const part of this.open.values()) {
      part.writer.abort();
    }
    this.rejects?.abort();
    this.archive?.abort();
    await Promise.allSettled(this.stagedParts);
    const output = this.options.storage.blobService.getContainerClient(
      STORAGE_NAMES.outputContainer,
    );
    await Promise.all(
      this.committedPaths.map((path) => output.getBlobClient(path).deleteIfExists()),
    );
  }

  /** Waits for every closed part's last blocks, then commits them all. */
  private async commitParts(): Promise<Array<StoredPart & { recordType: string }>> {
    const staged = await Promise.all(this.stagedParts);
    await Promise.all(this.closed.map((writer) => writer.commit()));
    return staged;
  }

  private openPart(recordType: string): OpenPart {
    const index = this.nextIndex.get(recordType) ?? 0;
    this.nextIndex.set(recordType, index + 1);
    const name = `part-${String(index).padStart(5, '0')}.ndjson${this.suffix()}.enc`;
    const path = `${this.options.partitionOf(recordType)}/${name}`;
    // gzip groups arrive as members (one gzip file when concatenated); brotli groups as NDJSON.
    const compression = compressesInPieces(this.options.compression)
      ? null
      : this.options.compression;
    const part = {
      index,
      path,
      recordCount: 0,
      writer: this.writer(STORAGE_NAMES.outputContainer, path, compression),
    };
    this.open.set(recordType, part);
    return part;
  }

  private closePart(recordType: string, part: OpenPart): void {
    this.open.delete(recordType);
    this.committedPaths.push(part.path);
    this.closed.push(part.writer);
    const staged = part.writer.stage().then((sealed) => ({
      path: part.path,
      container: STORAGE_NAMES.outputContainer,
      recordCount: part.recordCount,
      ...sealed,
      recordType,
    }));
    // Awaited by finish or abort; marked handled so a failure waits for them.
    staged.catch(() => undefined);
    this.stagedParts.push(staged);
  }

  private async finishOne(
    writer: SealedBlobWriter,
    kind: 'rejects' | 'archive',
    path: string,
    recordCount: number,
  ): Promise<StoredPart[]> {
    const sealed = await writer.finish();
    const container =
      kind === 'rejects' ? STORAGE_NAMES.rejectsContainer : STORAGE_NAMES.archiveContainer;
    return [{ path, container, recordCount, ...sealed }];
  }

  private writer(container: string, path: string, compression: Compression | null) {
    const client = this.options.storage.blobService
      .getContainerClient(container)
      .getBlockBlobClient(path);
    return new SealedBlobWriter(client, this.options.envelope, compression);
  }

  private suffix(): string {
    return compressionSuffix(this.options.compression.codec);
  }
}
