import { generateHl7Corpus } from './samples/corpus.js';
import { decodeHl7Bytes, parseHl7, splitHl7File } from './transforms/hl7/index.js';
const { bytes } = generateHl7Corpus({ seed: 20261203, approxBytes: 8e6 });
const split = splitHl7File(bytes); if (!split.ok) throw 1;
const texts = split.messages.map((r, i) => { const d = decodeHl7Bytes(bytes.subarray(r.start, r.end), i); if (!d.ok) throw 1; return d.text; });
const mode = process.argv[2] ?? 'parse';
let sum = 0;
const best: number[] = [];
for (let round = 0; round < 8; round++) {
  const t = process.cpuUsage();
  for (let k = 0; k < 3; k++) {
    if (mode === 'all') {
      const sp = splitHl7File(bytes); if (!sp.ok) throw 1;
      for (let i = 0; i < sp.messages.length; i++) {
        const r = sp.messages[i];
        const d = decodeHl7Bytes(bytes.subarray(r.start, r.end), i); if (!d.ok) throw 1;
        const p = parseHl7(d.text, i); if (!p.ok) throw 1;
        const m = p.message;
        for (const path of ['MSH-9.1','MSH-9.2','MSH-10','PID-3[1].1','PID-5.1','PID-7','PV1-3.4']) sum += (m.get(path) ?? '').length;
        for (const o of m.segmentsNamed('OBX')) sum += (o.getValue(5,1,1) ?? '').length;
      }
      continue;
    }
    for (let i = 0; i < texts.length; i++) {
      const p = parseHl7(texts[i], i);
      if (!p.ok) throw 1;
      if (mode === 'read') {
        const m = p.message;
        for (const path of ['MSH-9.1','MSH-9.2','MSH-10','PID-3[1].1','PID-5.1','PID-7','PV1-3.4']) sum += (m.get(path) ?? '').length;
        for (const o of m.segmentsNamed('OBX')) sum += (o.getValue(5,1,1) ?? '').length;
      }
    }
  }
  const u = process.cpuUsage(t);
  best.push(bytes.length * 3 / 1e6 / ((u.user + u.system) / 1e6));
}
best.sort((a, b) => b - a);
console.log(mode, 'best', best[0].toFixed(1), 'median', best[4].toFixed(1), 'MB/s cpu');
