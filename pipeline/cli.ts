import { Command, Option } from 'commander';

import { drain, openApp, createOrchestrator, PIPELINE_VERSION, type App } from './app.js';
import { loadConfig, type PipelineConfig } from './config.js';
import { dropFiles, expandPaths } from './drop.js';
import { describeError, PipelineError } from './errors.js';
import { listRecentBatches } from './manifest.js';
import { STORAGE_NAMES } from './storage.js';
import { formatBatchRows, formatRunSummary } from './summary.js';

interface GlobalOptions {
  home?: string;
}

const SEALED_CONTAINERS: string[] = [
  STORAGE_NAMES.outputContainer,
  STORAGE_NAMES.rejectsContainer,
  STORAGE_NAMES.archiveContainer,
  STORAGE_NAMES.quarantineContainer,
];

/**
 * Builds the `phi-ingest` command line.
 */
export function createCli(): Command {
  const program = new Command('phi-ingest')
    .description('Batch ingestion of HL7 v2 and FHIR R4 into encrypted, de-identified NDJSON')
    .version(PIPELINE_VERSION)
    .option('--home <dir>', 'folder for local state and embedded Azurite data (PHI_INGEST_HOME)')
    .showHelpAfterError();

  program
    .command('run')
    .description('run the orchestrator until SIGINT/SIGTERM')
    .addOption(new Option('--until-drained', 'exit once the inbound queue is empty'))
    .action(async (options: { untilDrained?: boolean }) => {
      await withApp(program, { keys: true, pool: true }, async (app) => {
        const orchestrator = createOrchestrator(app, options.untilDrained ?? false);
        const onSignal = (signal: NodeJS.Signals): void => {
          app.log.info({ signal }, 'Stop requested');
          orchestrator.stop();
        };
        process.once('SIGINT', onSignal);
        process.once('SIGTERM', onSignal);
        const report = await orchestrator.run();
        process.stdout.write(formatRunSummary(report) + '\n');
      });
    });

  program
    .command('drop')
    .description('upload files to the inbound container and announce each on the queue')
    .requiredOption('--feed <name>', 'feed the files belong to')
    .argument('<file...>', 'files or folders')
    .action(async (paths: string[], options: { feed: string }) => {
      await withApp(program, {}, async (app) => {
        const dropped = await dropFiles(app.storage, options.feed, expandPaths(paths));
        for (const file of dropped) {
          process.stdout.write(`${file.localPath} -> ${STORAGE_NAMES.inboundContainer}/${file.blobName}\n`);
        }
        process.stdout.write(`${dropped.length} files dropped for feed ${options.feed}\n`);
      });
    });

  program
    .command('ingest')
    .description('drop files, run until the queue is drained, print the summary')
    .requiredOption('--feed <name>', 'feed the files belong to')
    .argument('<path...>', 'files or folders')
    .action(async (paths: string[], options: { feed: string }) => {
      await withApp(program, { keys: true, pool: true }, async (app) => {
        const files = expandPaths(paths);
        await dropFiles(app.storage, options.feed, files);
        const report = await drain(app);
        process.stdout.write(formatRunSummary(report) + '\n');
      });
    });

  program
    .command('decrypt')
    .description('print the plaintext of one stored part, such as output/feed=.../part-00000.ndjson.gz.enc')
    .argument('<path>', 'container/path; a bare path means the output container')
    .action(async (path: string) => {
      await withApp(program, { keys: true, pool: true }, async (app) => {
        const text = await decryptStored(app, path);
        process.stdout.write(text);
      });
    });

  program
    .command('status')
    .description('queue depths and the last batches (reads no PHI, needs no key)')
    .option('--limit <n>', 'how many recent batches', '10')
    .option('--json', 'print JSON')
    .action(async (options: { limit: string; json?: boolean }) => {
      await withApp(program, {}, async (app) => {
        const limit = Number.parseInt(options.limit, 10);
        const [inbound, poison, batches] = await Promise.all([
          app.storage.inboundQueue.getProperties(),
          app.storage.poisonQueue.getProperties(),
          listRecentBatches(app.storage, Number.isFinite(limit) && limit > 0 ? limit : 10),
        ]);
        const status = {
          storage: app.storage.kind,
          queues: {
            [STORAGE_NAMES.inboundQueue]: inbound.approximateMessagesCount ?? 0,
            [STORAGE_NAMES.poisonQueue]: poison.approximateMessagesCount ?? 0,
          },
          batches,
        };
        if (options.json) {
          process.stdout.write(JSON.stringify(status, null, 2) + '\n');
          return;
        }
        process.stdout.write(
          `storage: ${status.storage}\n` +
            `queue ${STORAGE_NAMES.inboundQueue}: ${status.queues[STORAGE_NAMES.inboundQueue]} messages\n` +
            `queue ${STORAGE_NAMES.poisonQueue}: ${status.queues[STORAGE_NAMES.poisonQueue]} messages\n\n` +
            (batches.length > 0 ? formatBatchRows(batches) : 'no batches yet') +
            '\n',
        );
      });
    });

  return program;
}

/**
 * Decrypts one stored part and returns its text.
 *
 * @param app - an app opened with keys and pool
 * @param path - `container/path`, or a path in the output container
 */
export async function decryptStored(app: App, path: string): Promise<string> {
  const slash = path.indexOf('/');
  const head = slash > 0 ? path.slice(0, slash) : '';
  const [container, blobPath] = SEALED_CONTAINERS.includes(head)
    ? [head, path.slice(slash + 1)]
    : [STORAGE_NAMES.outputContainer, path];

  let sealed: Buffer;
  try {
    sealed = await app.storage.blobService.getContainerClient(container).getBlobClient(blobPath).downloadToBuffer();
  } catch (error) {
    if ((error as { statusCode?: number }).statusCode === 404) {
      throw new PipelineError('PART_NOT_FOUND', `No such part in container ${container}`);
    }
    throw error;
  }
  const keyRing = app.keyRing!;
  const opened = await app.pool!.open({
    sealed,
    gunzip: blobPath.endsWith('.gz.enc'),
    encryptionKeyId: keyRing.encryptionKeyId,
    keyEncryptionKeys: keyRing.keyEncryptionKeys,
  });
  if (opened.status === 'failed') {
    throw new PipelineError('DECRYPT_FAILED', `The part could not be decrypted (${opened.code})`);
  }
  return Buffer.from(opened.plaintext).toString('utf8');
}

async function withApp(
  program: Command,
  parts: { keys?: boolean; pool?: boolean },
  action: (app: App) => Promise<void>,
): Promise<void> {
  const globals = program.opts<GlobalOptions>();
  const overrides: Partial<PipelineConfig> = globals.home ? { homeDir: globals.home } : {};
  const config = loadConfig(process.env, overrides);
  const app = await openApp(config, parts);
  try {
    await action(app);
  } finally {
    await app.close();
  }
}

/**
 * Runs the CLI and sets the exit code. Errors print their code and fixed message, never a stack
 * or a quoted value.
 *
 * @param argv - process arguments
 */
export async function main(argv: string[] = process.argv): Promise<void> {
  try {
    await createCli().parseAsync(argv);
  } catch (error) {
    process.stderr.write(`phi-ingest: ${describeError(error)}\n`);
    process.exitCode = 1;
  }
}
