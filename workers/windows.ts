import { detectFormat } from '../transforms/detect-format.js';
import { isDelimiterChar } from '../transforms/hl7/delimiters.js';
import { initialHl7EnvelopeState, splitHl7File } from '../transforms/hl7/index.js';
import { prepareHl7, prepareNdjson } from './records.js';
import type { FailedOutcome, WindowOutcome, WindowTask } from './task-types.js';

const CR = 0x0d;
const LF = 0x0a;
const MLLP_START = 0x0b;
const MLLP_END = 0x1c;

/**
 * Finds the records of one window of a file read in windows, and where to cut it: the bytes
 * before the cut hold whole records only and are transformed now; the rest starts the next
 * window. Cuts fall where a transform task would start in the whole file (a record whose
 * batch-wide index is a multiple of `taskRecords`) whenever the window holds such a record, so
 * tasks, output groups and parts come out as they would from the whole file. A window that holds
 * no whole record comes back with `cut: 0`, and the caller reads more into it.
 *
 * A file that fits in one window is split whole (`prepareHl7`, `prepareNdjson`), uncut.
 *
 * @param task - the window, where it sits in the file, and what the windows before found
 */
export function prepareWindow(task: WindowTask): WindowOutcome | FailedOutcome {
  const bytes = new Uint8Array(task.source, 0, task.sourceBytes);
  if (task.format === undefined) {
    if (isBlank(bytes)) {
      // Nothing to detect yet: a blank file is FILE_EMPTY only once the whole of it is seen.
      return task.final ? failed('FILE_EMPTY') : needMore(task);
    }
    const format = detectFormat(bytes);
    if (format === 'unknown') {
      return failed('FORMAT_UNKNOWN');
    }
    if (format === 'fhir-json' || task.final) {
      // One JSON document cannot be cut; a file that fits in one window needs no cut.
      return whole(bytes, format, task);
    }
    return format === 'hl7v2' ? hl7Window(bytes, task) : ndjsonWindow(bytes, task);
  }
  return task.format === 'hl7v2' ? hl7Window(bytes, task) : ndjsonWindow(bytes, task);
}

function whole(
  bytes: Uint8Array,
  format: 'hl7v2' | 'ndjson' | 'fhir-json',
  task: WindowTask,
): WindowOutcome | FailedOutcome {
  if (format === 'fhir-json') {
    return { status: 'ok', format, ranges: [], cut: task.final ? bytes.length : 0 };
  }
  const prepared =
    format === 'hl7v2' ? prepareHl7(bytes, task.acceptBatchCountMismatch) : prepareNdjson(bytes);
  if (prepared.status === 'failed') {
    return prepared;
  }
  return {
    status: 'ok',
    format,
    ranges: prepared.ranges,
    cut: bytes.length,
    countMismatch: prepared.countMismatch,
    trailersMissing: prepared.trailersMissing,
  };
}

function hl7Window(bytes: Uint8Array, task: WindowTask): WindowOutcome | FailedOutcome {
  const cut = task.final ? bytes.length : hl7Cut(bytes, task);
  if (cut === 0) {
    return needMore(task);
  }

  const envelope = task.envelope ?? initialHl7EnvelopeState();
  const split = splitHl7File(bytes.subarray(0, cut), {
    acceptCountMismatch: task.acceptBatchCountMismatch,
    envelope,
  });
  if (!split.ok) {
    const position = { ...split.position };
    if (position.byteOffset !== undefined) {
      position.byteOffset += task.windowOffset;
    }
    return { status: 'failed', code: split.code, retryable: false, position, format: 'hl7v2' };
  }
  const ranges: number[] = [];
  for (const message of split.messages) {
    ranges.push(message.start, message.end);
  }
  if (task.final && task.recordsBefore + split.messages.length === 0) {
    return { status: 'failed', code: 'HL7_MISSING_MSH', retryable: false, format: 'hl7v2' };
  }
  return {
    status: 'ok',
    format: 'hl7v2',
    ranges,
    cut,
    envelope,
    countMismatch: task.final ? envelope.mismatch : undefined,
    trailersMissing: task.final ? split.envelope.trailersMissing : undefined,
  };
}

/**
 * Where to cut a window of HL7 v2: at the start of an MSH segment, which is where the splitter
 * starts a message. MSH followed by a delimiter starts a segment after any CR or LF (see
 * transforms/hl7/segment-breaks.ts) and after the MLLP framing bytes, so these byte patterns
 * are exactly the message starts after the window's first. The four bytes after a candidate
 * must be in the window, so that the splitter sees it as the whole file would.
 */
function hl7Cut(bytes: Uint8Array, task: WindowTask): number {
  const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  // The index of the first message after the window's start: a later window starts at an MSH;
  // the first may (after a byte order mark) or may not (FHS, BHS, blank lines, MLLP).
  const leading = task.windowOffset > 0 || isMshAt(bytes, hasBom(bytes) ? 3 : 0) ? 1 : 0;
  let index = task.recordsBefore + leading;
  let aligned = 0;
  let last = 0;
  for (let at = text.indexOf('MSH', 1, 'latin1'); at !== -1; at = text.indexOf('MSH', at + 1)) {
    if (at + 4 > bytes.length) {
      break;
    }
    const before = bytes[at - 1];
    if (before !== CR && before !== LF && before !== MLLP_START && before !== MLLP_END) {
      continue;
    }
    if (!isMshAt(bytes, at)) {
      continue;
    }
    if (index > task.recordsBefore) {
      last = at;
      if (index % task.taskRecords === 0) {
        aligned = at;
      }
    }
    index++;
  }
  // Limitation: a window with fewer records than a task is cut after its last whole record, so
  // tasks from there on start elsewhere than in the whole file (output is the same records in
  // the same order; part boundaries may differ). The default window holds many tasks.
  return aligned > 0 ? aligned : last;
}

function ndjsonWindow(bytes: Uint8Array, task: WindowTask): WindowOutcome | FailedOutcome {
  let end = bytes.length;
  if (!task.final) {
    end = bytes.lastIndexOf(LF) + 1;
    if (end === 0) {
      return needMore(task);
    }
  }
  // Only the file's first bytes may be a byte order mark.
  const prepared = prepareNdjson(bytes.subarray(0, end), task.windowOffset === 0);
  let ranges = prepared.ranges;
  let cut = end;
  if (!task.final) {
    const count = ranges.length / 2;
    if (count === 0) {
      // Blank lines only: keep them for the window that holds the next record.
      return needMore(task);
    }
    // The last record whose batch-wide index is a multiple of the task size, after the first.
    const step = task.taskRecords;
    const firstAligned = (step - (task.recordsBefore % step)) % step || step;
    if (firstAligned < count) {
      const alignedIndex = firstAligned + Math.floor((count - 1 - firstAligned) / step) * step;
      cut = ranges[alignedIndex * 2];
      ranges = ranges.slice(0, alignedIndex * 2);
    }
  }
  return { status: 'ok', format: 'ndjson', ranges, cut };
}

function needMore(task: WindowTask): WindowOutcome {
  return {
    status: 'ok',
    format: task.format ?? 'ndjson',
    ranges: [],
    cut: 0,
    envelope: task.envelope,
  };
}

function isMshAt(bytes: Uint8Array, at: number): boolean {
  const separator = bytes[at + 3];
  return (
    bytes[at] === 0x4d &&
    bytes[at + 1] === 0x53 &&
    bytes[at + 2] === 0x48 &&
    separator !== undefined &&
    separator < 0x80 &&
    isDelimiterChar(String.fromCharCode(separator))
  );
}

function hasBom(bytes: Uint8Array): boolean {
  return bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf;
}

function isBlank(bytes: Uint8Array): boolean {
  for (const byte of bytes) {
    // Space, tab, CR, LF, and the MLLP framing bytes carry nothing.
    const blank = byte === 0x20 || byte === 0x09 || byte === CR || byte === LF;
    if (!blank && byte !== MLLP_START && byte !== MLLP_END) {
      return false;
    }
  }
  return true;
}

function failed(code: string): FailedOutcome {
  return { status: 'failed', code, retryable: false };
}
