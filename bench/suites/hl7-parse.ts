/**
 * HL7 v2 parse throughput: phi-ingest against the JavaScript HL7 libraries, on one generated
 * corpus, in one run, each reading the same fields.
 *
 * Every contender starts from the file's bytes and does the whole job: find the messages, decode
 * the text, parse each message and read MSH-9.1, MSH-9.2, MSH-10, PID-3[1].1, PID-5.1, PID-7,
 * PV1-3.4 and OBX-5.1 of every OBX, unescaped where the library can unescape. phi-ingest uses
 * its own pipeline (`splitHl7File`, `decodeHl7Bytes`, `parseHl7`, `Hl7Message.get`); the peers
 * get the text from one `TextDecoder` call and the messages from an `indexOf` scan for `\rMSH|`,
 * which is cheaper than what phi-ingest does (charset per message, batch envelope, MLLP,
 * LF-inside-field rules), so the comparison does not favour phi-ingest.
 *
 * Before timing, one untimed pass per contender collects every value it reads and compares them
 * with a reference reading made here by plain splitting (the generated corpus uses `|^~\&` and
 * CR only) and a regex for the five delimiter escapes. A peer "decodes escapes" when every value
 * whose raw text holds an escape comes out as the reference says. A second probe, with `\X..\`
 * UTF-8 hex and `\.br\`, records whether a library handles the rest of HL7's escapes.
 *
 * Timing: each contender in turn runs `WARMUP_RUNS` times to warm up, then `RUNS` times; the
 * figure is the median run by wall clock. (Interleaving contenders made each pay for the
 * others' garbage, and forcing a collection between runs made V8 slower afterwards.) The
 * median by process CPU time is recorded beside it (`cpuMBps`): on a busy machine it is the
 * steadier of the two, though it also counts V8's background GC threads.
 */
import { createRequire } from 'node:module';
import { performance } from 'node:perf_hooks';

import { Hl7Message as MedplumMessage } from '@medplum/core';
import { Message as NodeHl7Message } from 'node-hl7-client';

import { generateHl7Corpus } from '../../samples/index.js';
import { decodeHl7Bytes, parseHl7, splitHl7File } from '../../transforms/hl7/index.js';
import type { BenchFigure, BenchOptions, BenchSuite } from '../suite.js';

const RUNS = 7;
const WARMUP_RUNS = 2;
// Megabytes of 10^6 bytes, as in bench/measure.ts.
const MB = 1e6;

/** Receives every value a contender reads; `null` is HL7's explicit null where a library has it. */
type Sink = (value: string | null | undefined) => void;

interface Contender {
  name: string;
  label: string;
  /** Parses the whole corpus, passing every value read to `sink`; returns the message count. */
  run(bytes: Uint8Array, sink: Sink): number;
  /** Reads OBX-5.1 from one message's text, for the escape probe. */
  probe(text: string): string | null | undefined;
}

// simple-hl7 is CommonJS without types; it is loaded as such and typed by the little it is used for.
interface SimpleComponent {
  toString(delimiters: unknown): string;
}
interface SimpleField {
  value: Array<SimpleComponent[] | SimpleField>;
}
interface SimpleSegment {
  name: string;
  fields: SimpleField[];
}
interface SimpleMessage {
  header: SimpleSegment & { delimiters: unknown };
  segments: SimpleSegment[];
}
const require = createRequire(import.meta.url);
const simpleHl7 = require('simple-hl7') as {
  Parser: new () => { parse(text: string): SimpleMessage };
};

const textDecoder = new TextDecoder();

/** The messages of the corpus text, for the peers: each starts at `MSH|` after a CR. */
function peerMessages(text: string): string[] {
  const messages: string[] = [];
  let start = 0;
  for (;;) {
    const next = text.indexOf('\rMSH|', start);
    if (next === -1) {
      messages.push(text.slice(start));
      return messages;
    }
    messages.push(text.slice(start, next + 1));
    start = next + 1;
  }
}

const phiIngest: Contender = {
  name: 'phi-ingest',
  label: 'phi-ingest parseHl7',
  run(bytes, sink) {
    const split = splitHl7File(bytes);
    if (!split.ok) {
      throw new Error(`corpus did not split: ${split.code}`);
    }
    const ranges = split.messages;
    for (let index = 0; index < ranges.length; index++) {
      const range = ranges[index];
      const decoded = decodeHl7Bytes(bytes.subarray(range.start, range.end), index);
      if (!decoded.ok) {
        throw new Error(`message ${index} did not decode: ${decoded.code}`);
      }
      const parsed = parseHl7(decoded.text, index);
      if (!parsed.ok) {
        throw new Error(`message ${index} did not parse: ${parsed.code}`);
      }
      const message = parsed.message;
      sink(message.get('MSH-9.1'));
      sink(message.get('MSH-9.2'));
      sink(message.get('MSH-10'));
      sink(message.get('PID-3[1].1'));
      sink(message.get('PID-5.1'));
      sink(message.get('PID-7'));
      sink(message.get('PV1-3.4'));
      for (const obx of message.segmentsNamed('OBX')) {
        sink(obx.getValue(5, 1, 1));
      }
    }
    return ranges.length;
  },
  probe(text) {
    const parsed = parseHl7(text, 0);
    return parsed.ok ? parsed.message.get('OBX-5.1') : undefined;
  },
};

const medplum: Contender = {
  name: 'medplum',
  label: '@medplum/core 4.5.2 Hl7Message.parse',
  run(bytes, sink) {
    const messages = peerMessages(textDecoder.decode(bytes));
    for (const text of messages) {
      const message = MedplumMessage.parse(text);
      const msh = message.getSegment('MSH');
      const pid = message.getSegment('PID');
      const pv1 = message.getSegment('PV1');
      sink(msh?.getComponent(9, 1));
      sink(msh?.getComponent(9, 2));
      sink(msh?.getField(10).toString());
      sink(pid?.getComponent(3, 1));
      sink(pid?.getComponent(5, 1));
      sink(pid?.getField(7).toString());
      sink(pv1?.getComponent(3, 4));
      for (const obx of message.getAllSegments('OBX')) {
        sink(obx.getComponent(5, 1));
      }
    }
    return messages.length;
  },
  probe(text) {
    return MedplumMessage.parse(text).getSegment('OBX')?.getComponent(5, 1);
  },
};

const nodeHl7Client: Contender = {
  name: 'node-hl7-client',
  label: 'node-hl7-client 3.2.0 Message',
  run(bytes, sink) {
    const messages = peerMessages(textDecoder.decode(bytes));
    for (const text of messages) {
      const message = new NodeHl7Message({ text });
      sink(message.get('MSH.9.1').toString());
      sink(message.get('MSH.9.2').toString());
      sink(message.get('MSH.10').toString());
      // `get` on a field reads its first repetition; `.1` its first component.
      sink(message.get('PID.3.1').toString());
      sink(message.get('PID.5.1').toString());
      sink(message.get('PID.7').toString());
      sink(message.get('PV1.3.4').toString());
      // A segment id that occurs more than once gives a list; read OBX-5 from each segment
      // (`toString` of a field is its first component of its first repetition, unescaped).
      message.get('OBX').forEach((obx) => sink(obx.get(5).toString()));
    }
    return messages.length;
  },
  probe(text) {
    let value: string | undefined;
    new NodeHl7Message({ text }).get('OBX').forEach((obx) => {
      value ??= obx.get(5).toString();
    });
    return value;
  },
};

/** Component `c` of repetition 1 of a simple-hl7 field (which nests repetitions as fields). */
function simpleComponent(field: SimpleField | undefined, c: number, delimiters: unknown): string {
  let current = field;
  // A field with repetitions holds one field per repetition; take the first.
  while (current && current.value.length > 0 && !Array.isArray(current.value[0])) {
    current = current.value[0] as SimpleField;
  }
  const components = current?.value[0] as SimpleComponent[] | undefined;
  return components?.[c - 1]?.toString(delimiters) ?? '';
}

const simple: Contender = {
  name: 'simple-hl7',
  label: 'simple-hl7 3.3.0 Parser',
  run(bytes, sink) {
    const messages = peerMessages(textDecoder.decode(bytes));
    const parser = new simpleHl7.Parser();
    for (const text of messages) {
      const message = parser.parse(text);
      const d = message.header.delimiters;
      // The header's field list starts at MSH-3.
      const msh = message.header.fields;
      sink(simpleComponent(msh[9 - 3], 1, d));
      sink(simpleComponent(msh[9 - 3], 2, d));
      sink(simpleComponent(msh[10 - 3], 1, d));
      const pid = message.segments.find((segment) => segment.name === 'PID');
      const pv1 = message.segments.find((segment) => segment.name === 'PV1');
      sink(simpleComponent(pid?.fields[3 - 1], 1, d));
      sink(simpleComponent(pid?.fields[5 - 1], 1, d));
      sink(simpleComponent(pid?.fields[7 - 1], 1, d));
      sink(simpleComponent(pv1?.fields[3 - 1], 4, d));
      for (const segment of message.segments) {
        if (segment.name === 'OBX') {
          sink(simpleComponent(segment.fields[5 - 1], 1, d));
        }
      }
    }
    return messages.length;
  },
  probe(text) {
    const message = new simpleHl7.Parser().parse(text);
    const obx = message.segments.find((segment) => segment.name === 'OBX');
    return simpleComponent(obx?.fields[5 - 1], 1, message.header.delimiters);
  },
};

const CONTENDERS: readonly Contender[] = [phiIngest, medplum, nodeHl7Client, simple];

/** One value of the reference reading: what it should be, and whether its raw text is escaped. */
interface Expected {
  value: string;
  escaped: boolean;
}

const ESCAPES: Record<string, string> = { F: '|', S: '^', T: '&', R: '~', E: '\\' };

/**
 * Reads the same fields by plain splitting; valid for the generated corpus only (standard
 * delimiters, CR terminators, no `\X..\` or formatting escapes).
 */
function referenceReading(text: string): Expected[] {
  const values: Expected[] = [];
  const add = (raw: string | undefined): void => {
    const value = raw ?? '';
    values.push({
      value: value.replace(/\\([FSTRE])\\/g, (_, c: string) => ESCAPES[c]),
      escaped: value.includes('\\'),
    });
  };
  const component = (field: string | undefined, c: number): string | undefined =>
    field?.split('~')[0].split('^')[c - 1];

  for (const message of peerMessages(text)) {
    const segments = message
      .split('\r')
      .filter((segment) => segment !== '')
      .map((s) => s.split('|'));
    // MSH-n is at split index n - 1, because MSH-1 is the separator itself.
    const msh = segments[0];
    const pid = segments.find((s) => s[0] === 'PID');
    const pv1 = segments.find((s) => s[0] === 'PV1');
    add(component(msh[8], 1));
    add(component(msh[8], 2));
    add(component(msh[9], 1));
    add(component(pid?.[3], 1));
    add(component(pid?.[5], 1));
    add(component(pid?.[7], 1));
    add(component(pv1?.[3], 4));
    for (const obx of segments.filter((s) => s[0] === 'OBX')) {
      add(component(obx[5], 1));
    }
  }
  return values;
}

const PROBE_MESSAGE =
  'MSH|^~\\&|A|B|C|D|20240101||ORU^R01|1|P|2.5.1\r' +
  'OBX|1|TX|C||Caf\\XC3A9\\ 2\\T\\3\\.br\\next\r';
const PROBE_EXPECTED = 'Café 2&3\nnext';

interface Check {
  /** Values equal to the reference, of all values read. */
  matching: number;
  total: number;
  /** Values that differ, split by whether their raw text holds an escape sequence. */
  escapedWrong: number;
  otherWrong: number;
  /** Every value whose raw text held an escape came out decoded. */
  decodesEscapes: boolean;
  /** The probe with `\X..\` UTF-8 and `\.br\` came out right. */
  decodesAllEscapes: boolean;
}

function check(contender: Contender, bytes: Uint8Array, reference: Expected[]): Check {
  const values: Array<string | null | undefined> = [];
  contender.run(bytes, (value) => values.push(value));
  let matching = 0;
  let escapedWrong = 0;
  let otherWrong = 0;
  reference.forEach((expected, index) => {
    const ok = (values[index] ?? '') === expected.value;
    matching += ok ? 1 : 0;
    escapedWrong += !ok && expected.escaped ? 1 : 0;
    otherWrong += !ok && !expected.escaped ? 1 : 0;
  });
  let probe: string | null | undefined;
  try {
    probe = contender.probe(PROBE_MESSAGE);
  } catch {
    probe = undefined;
  }
  return {
    matching: values.length === reference.length ? matching : 0,
    total: reference.length,
    escapedWrong,
    otherWrong,
    decodesEscapes: values.length === reference.length && escapedWrong === 0,
    decodesAllEscapes: probe === PROBE_EXPECTED,
  };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

export const hl7ParseSuite: BenchSuite = {
  name: 'hl7-parse',
  description:
    'HL7 v2 split + decode + parse + read fields, against @medplum/core, node-hl7-client, simple-hl7',
  async run(options: BenchOptions): Promise<BenchFigure[]> {
    const corpus = generateHl7Corpus({ seed: options.seed, approxBytes: options.sizeMb * MB });
    const bytes = corpus.bytes;
    const megabytes = bytes.length / MB;
    const reference = referenceReading(textDecoder.decode(bytes));

    const checks = new Map<string, Check>();
    for (const contender of CONTENDERS) {
      checks.set(contender.name, check(contender, bytes, reference));
    }

    let checksum = 0;
    const sink: Sink = (value) => {
      checksum += value ? value.length : 0;
    };
    const times = new Map<string, number[]>(CONTENDERS.map((c) => [c.name, []]));
    const cpuTimes = new Map<string, number[]>(CONTENDERS.map((c) => [c.name, []]));
    const counts = new Map<string, number>();
    for (const contender of CONTENDERS) {
      for (let run = -WARMUP_RUNS; run < RUNS; run++) {
        const cpuStart = process.cpuUsage();
        const started = performance.now();
        const messages = contender.run(bytes, sink);
        const seconds = (performance.now() - started) / 1000;
        const cpu = process.cpuUsage(cpuStart);
        counts.set(contender.name, messages);
        if (run >= 0) {
          times.get(contender.name)?.push(seconds);
          cpuTimes.get(contender.name)?.push((cpu.user + cpu.system) / 1e6);
        }
      }
    }

    const figures: BenchFigure[] = [];
    const throughput = new Map<string, number>();
    const cpuThroughput = new Map<string, number>();
    for (const contender of CONTENDERS) {
      const seconds = median(times.get(contender.name) ?? []);
      const messages = counts.get(contender.name) ?? 0;
      const c = checks.get(contender.name) as Check;
      const cpuSeconds = median(cpuTimes.get(contender.name) ?? []);
      throughput.set(contender.name, megabytes / seconds);
      cpuThroughput.set(contender.name, megabytes / cpuSeconds);
      const details = {
        messages,
        bytes: bytes.length,
        runs: RUNS,
        medianMs: Math.round(seconds * 1000),
        cpuMBps: Number((megabytes / cpuSeconds).toFixed(1)),
        valuesMatching: `${c.matching}/${c.total}`,
        escapedValuesWrong: c.escapedWrong,
        otherValuesWrong: c.otherWrong,
        decodesEscapes: String(c.decodesEscapes),
        decodesHexAndFormatting: String(c.decodesAllEscapes),
      };
      figures.push(
        {
          name: `hl7-parse.${contender.name}.mbps`,
          label: `${contender.label} MB/s`,
          value: megabytes / seconds,
          unit: 'MB/s',
          details,
        },
        {
          name: `hl7-parse.${contender.name}.msgps`,
          label: `${contender.label} msg/s`,
          value: messages / seconds,
          unit: 'msg/s',
        },
      );
    }

    const ours = throughput.get(phiIngest.name) as number;
    const peers = CONTENDERS.filter((c) => c !== phiIngest);
    const fastest = (list: readonly Contender[]): Contender | undefined =>
      [...list].sort(
        (a, b) => (throughput.get(b.name) as number) - (throughput.get(a.name) as number),
      )[0];
    const fastestPeer = fastest(peers);
    const fastestCorrect = fastest(peers.filter((c) => checks.get(c.name)?.decodesEscapes));
    const cpuRatio = (peer: Contender): number =>
      Number(
        (
          (cpuThroughput.get(phiIngest.name) as number) / (cpuThroughput.get(peer.name) as number)
        ).toFixed(2),
      );
    if (fastestCorrect) {
      figures.push({
        name: 'hl7-parse.ratio-vs-fastest-escape-correct-peer',
        label: `ratio vs fastest escape-correct peer (${fastestCorrect.name})`,
        value: ours / (throughput.get(fastestCorrect.name) as number),
        unit: 'ratio',
        details: { byCpuTime: cpuRatio(fastestCorrect) },
      });
    } else {
      process.stdout.write(
        'No peer decodes the corpus escapes correctly; no escape-correct ratio.\n',
      );
    }
    if (fastestPeer) {
      figures.push({
        name: 'hl7-parse.ratio-vs-fastest-peer',
        label: `ratio vs fastest peer overall (${fastestPeer.name})`,
        value: ours / (throughput.get(fastestPeer.name) as number),
        unit: 'ratio',
        details: { byCpuTime: cpuRatio(fastestPeer) },
      });
    }
    // Keeps the sink's work observable so no engine can drop it.
    figures[0].details = { ...figures[0].details, checksum };
    return figures;
  },
};
