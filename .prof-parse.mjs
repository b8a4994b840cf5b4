// samples/clinical.ts
var LAB_TESTS = [
  { code: "2345-7", display: "Glucose", unit: "mg/dL", low: 70, high: 99, decimals: 0 },
  { code: "2160-0", display: "Creatinine", unit: "mg/dL", low: 0.6, high: 1.3, decimals: 1 },
  { code: "2823-3", display: "Potassium", unit: "mmol/L", low: 3.5, high: 5.1, decimals: 1 },
  { code: "2951-2", display: "Sodium", unit: "mmol/L", low: 136, high: 145, decimals: 0 },
  { code: "2075-0", display: "Chloride", unit: "mmol/L", low: 98, high: 107, decimals: 0 },
  { code: "3094-0", display: "Urea nitrogen", unit: "mg/dL", low: 7, high: 20, decimals: 0 },
  { code: "17861-6", display: "Calcium", unit: "mg/dL", low: 8.6, high: 10.3, decimals: 1 },
  { code: "1751-7", display: "Albumin", unit: "g/dL", low: 3.5, high: 5.2, decimals: 1 },
  { code: "6690-2", display: "Leukocytes", unit: "10*3/uL", low: 4.5, high: 11, decimals: 1 },
  { code: "718-7", display: "Hemoglobin", unit: "g/dL", low: 12, high: 17.5, decimals: 1 }
];
var PHRASES = [
  "specimen received intact",
  "no hemolysis noted",
  "labs & imaging reviewed",
  "tolerating diet",
  "ambulating with assistance",
  "pain controlled on current regimen",
  "afebrile overnight",
  "wound clean and dry",
  "plan discussed at bedside",
  "score 2|10 at rest",
  "ratio 3^2 per protocol",
  "range 4~6 expected",
  "see path\\notes for details",
  "follow up in two weeks",
  "repeat panel in the morning",
  "results called to the ward",
  "sample slightly lipemic",
  "no acute distress"
];
function createLabResults(prng, count) {
  const start = prng.int(0, LAB_TESTS.length - 1);
  return Array.from({ length: Math.min(count, LAB_TESTS.length) }, (_, index) => {
    const definition = LAB_TESTS[(start + index) % LAB_TESTS.length];
    const value = drawValue(prng, definition);
    const flag = value < definition.low ? "L" : value > definition.high ? "H" : "N";
    return {
      valueType: "NM",
      code: definition.code,
      display: definition.display,
      value: String(value),
      units: definition.unit,
      referenceRange: `${definition.low}-${definition.high}`,
      abnormalFlag: flag
    };
  });
}
function createFreeText(prng, sentences) {
  return Array.from({ length: sentences }, () => {
    const phrase = `${prng.pick(PHRASES)}; ${prng.pick(PHRASES)}`;
    return `${phrase.charAt(0).toUpperCase()}${phrase.slice(1)}.`;
  }).join(" ");
}
function drawValue(prng, definition) {
  const spread = (definition.high - definition.low) * 0.15;
  const width = definition.high - definition.low + 2 * spread;
  const raw = definition.low - spread + prng.next() * width;
  const factor = 10 ** definition.decimals;
  return Math.round(raw * factor) / factor;
}

// samples/prng.ts
function createPrng(seed) {
  let state = seed >>> 0;
  const next = () => {
    state = state + 1831565813 >>> 0;
    let mixed = state;
    mixed = Math.imul(mixed ^ mixed >>> 15, mixed | 1);
    mixed ^= mixed + Math.imul(mixed ^ mixed >>> 7, mixed | 61);
    return ((mixed ^ mixed >>> 14) >>> 0) / 4294967296;
  };
  const int = (min, max) => min + Math.floor(next() * (max - min + 1));
  return {
    next,
    int,
    pick: (items) => items[int(0, items.length - 1)],
    bytes: (count) => Uint8Array.from({ length: count }, () => int(0, 255))
  };
}
function createUuid(prng) {
  const bytes2 = prng.bytes(16);
  bytes2[6] = bytes2[6] & 15 | 64;
  bytes2[8] = bytes2[8] & 63 | 128;
  const hex = Array.from(bytes2, (byte) => byte.toString(16).padStart(2, "0")).join("");
  return [
    hex.slice(0, 8),
    hex.slice(8, 12),
    hex.slice(12, 16),
    hex.slice(16, 20),
    hex.slice(20)
  ].join("-");
}

// samples/sample-time.ts
var BASE_TIME_MS = Date.UTC(2024, 2, 1, 8, 0, 0);
function sampleTime(minutesAfterBase) {
  return new Date(BASE_TIME_MS + minutesAfterBase * 6e4);
}
function formatHl7Time(time) {
  return time.toISOString().slice(0, 19).replace(/[-T:]/g, "");
}
function toHl7Date(date) {
  return date.replace(/-/g, "");
}
function pad2(value) {
  return String(value).padStart(2, "0");
}

// samples/people.ts
var FAMILY_NAMES = [
  "Testpatient",
  "Fakename",
  "Sampleson",
  "Mockworth",
  "Placeholder",
  "Dummyfield",
  "Notreal",
  "Examplova"
];
var GIVEN_NAMES = [
  "Alpha",
  "Bravo",
  "Charlie",
  "Delta",
  "Foxtrot",
  "Juliett",
  "Kilo",
  "Oscar",
  "Quebec",
  "Romeo",
  "Sierra",
  "Tango",
  "Victor",
  "Whiskey",
  "Yankee",
  "Zulu"
];
var RELATIONSHIPS = [
  { code: "SPO", display: "Spouse" },
  { code: "PAR", display: "Parent" },
  { code: "SIB", display: "Sibling" },
  { code: "CHD", display: "Child" }
];
var SAMPLE_CITY = "Testville";
var SAMPLE_STATE = "TS";
var SAMPLE_POSTAL_CODE = "00000";
var SAMPLE_AREA_CODE = "210";
function createPeople(prng, count) {
  const mrnStart = prng.int(1e6, 8999999 - count);
  const accountStart = prng.int(1e7, 89999999 - count);
  const visitStart = prng.int(1e7, 89999999 - count);
  const phoneStart = prng.int(0, 99);
  return Array.from({ length: count }, (_, index) => {
    const familyName = prng.pick(FAMILY_NAMES);
    const givenName = prng.pick(GIVEN_NAMES);
    const relationship = prng.pick(RELATIONSHIPS);
    return {
      patientId: createUuid(prng),
      mrn: `MRN${mrnStart + index}`,
      accountNumber: `ACCT${accountStart + index}`,
      visitNumber: `VN${visitStart + index}`,
      ssn: `999-${prng.int(10, 99)}-${prng.int(1e3, 9999)}`,
      familyName,
      givenName,
      middleInitial: String.fromCharCode(prng.int(65, 90)),
      birthDate: `${prng.int(1940, 2015)}-${pad2(prng.int(1, 12))}-${pad2(prng.int(1, 28))}`,
      sex: prng.next() < 0.5 ? "F" : "M",
      street: `${prng.int(100, 999)} Fake Street`,
      phone: fictionalPhone(phoneStart + 2 * index),
      email: `${givenName}.${familyName}${index + 1}@example.invalid`.toLowerCase(),
      nextOfKin: {
        familyName: prng.pick(FAMILY_NAMES),
        givenName: prng.pick(GIVEN_NAMES),
        relationshipCode: relationship.code,
        relationship: relationship.display,
        phone: fictionalPhone(phoneStart + 2 * index + 1)
      }
    };
  });
}
function fictionalPhone(index) {
  return `555-01${pad2(index % 100)}`;
}

// samples/hl7-text.ts
var HL7_ENCODING_CHARACTERS = "^~\\&";
function hl7Segment(segmentName2, fields2) {
  return [segmentName2, ...numberedFields(fields2, 1)].join("|");
}
function hl7HeaderSegment(segmentName2, fields2) {
  return [`${segmentName2}|${HL7_ENCODING_CHARACTERS}`, ...numberedFields(fields2, 3)].join("|");
}
function escapeHl7(text) {
  return text.replace(/\\/g, "\\E\\").replace(/\|/g, "\\F\\").replace(/\^/g, "\\S\\").replace(/~/g, "\\R\\").replace(/&/g, "\\T\\");
}
function numberedFields(fields2, firstPosition) {
  const positions = Object.keys(fields2).map(Number);
  const lastPosition = Math.max(firstPosition - 1, ...positions);
  const values = [];
  for (let position = firstPosition; position <= lastPosition; position++) {
    values.push(fields2[position] ?? "");
  }
  return values;
}

// samples/hl7-samples.ts
var SAMPLE_FACILITY = "Testville General & Clinics";
function buildAdtSegments(person, event, context) {
  const time = formatHl7Time(context.time);
  return [
    buildMsh("FAKEADT", "TESTHOSP", `ADT^${event}^ADT_A01`, context),
    hl7Segment("EVN", { 1: event, 2: time }),
    buildPid(person),
    buildNk1(person),
    buildPv1(person, event === "A04" ? "O" : "I", time)
  ];
}
function buildOruSegments(person, context, results, notes) {
  const time = formatHl7Time(context.time);
  const placerNumber = `ORD${context.controlId}`;
  const fillerNumber = `FIL${context.controlId}`;
  return [
    buildMsh("FAKELAB", "TESTLAB", "ORU^R01^ORU_R01", context),
    buildPid(person),
    buildPv1(person, "O", time),
    hl7Segment("ORC", { 1: "RE", 2: placerNumber, 3: fillerNumber }),
    hl7Segment("OBR", {
      1: "1",
      2: placerNumber,
      3: fillerNumber,
      4: "24323-8^Comprehensive metabolic panel^LN",
      7: time,
      25: "F"
    }),
    ...results.map((result, index) => buildObx(result, index + 1, time)),
    ...notes.map(
      (note, index) => hl7Segment("NTE", { 1: String(index + 1), 2: "L", 3: escapeHl7(note) })
    )
  ];
}
function joinSegments(segments, terminator) {
  return segments.map((segment) => segment + terminator).join("");
}
function formatHl7Phone(phone) {
  return `(${SAMPLE_AREA_CODE})${phone}^PRN^PH`;
}
function buildMsh(sendingApplication, sendingFacility, messageType, context) {
  return hl7HeaderSegment("MSH", {
    3: sendingApplication,
    4: sendingFacility,
    5: "PHIINGEST",
    6: "TESTDEST",
    7: formatHl7Time(context.time),
    9: messageType,
    10: context.controlId,
    11: "P",
    12: "2.5.1"
  });
}
function buildPid(person) {
  return hl7Segment("PID", {
    1: "1",
    // PID-3 repeats: the medical record number first, then the account number.
    3: `${person.mrn}^^^TESTHOSP^MR~${person.accountNumber}^^^TESTHOSP^AN`,
    5: `${person.familyName}^${person.givenName}^${person.middleInitial}`,
    7: toHl7Date(person.birthDate),
    8: person.sex,
    11: buildAddress(person),
    13: `${formatHl7Phone(person.phone)}~^NET^Internet^${person.email}`,
    18: `${person.accountNumber}^^^TESTHOSP^AN`,
    19: person.ssn
  });
}
function buildNk1(person) {
  const kin = person.nextOfKin;
  return hl7Segment("NK1", {
    1: "1",
    2: `${kin.familyName}^${kin.givenName}`,
    3: `${kin.relationshipCode}^${kin.relationship}^HL70063`,
    4: buildAddress(person),
    5: formatHl7Phone(kin.phone)
  });
}
function buildPv1(person, patientClass, time) {
  return hl7Segment("PV1", {
    1: "1",
    2: patientClass,
    3: `WARD2^214^B^${escapeHl7(SAMPLE_FACILITY)}`,
    7: "4821^Doctor^Sample^^^Dr",
    10: "MED",
    19: person.visitNumber,
    44: time
  });
}
function buildObx(result, setId, time) {
  return hl7Segment("OBX", {
    1: String(setId),
    2: result.valueType,
    3: `${result.code}^${escapeHl7(result.display)}^LN`,
    5: escapeHl7(result.value),
    6: result.units === void 0 ? "" : `${result.units}^${result.units}^UCUM`,
    7: result.referenceRange ?? "",
    8: result.abnormalFlag ?? "",
    11: "F",
    14: time
  });
}
function buildAddress(person) {
  return `${person.street}^^${SAMPLE_CITY}^${SAMPLE_STATE}^${SAMPLE_POSTAL_CODE}^USA^H`;
}

// samples/corpus.ts
var DEFAULT_SEED = 20240301;
var PEOPLE_PER_BLOCK = 500;
var ADT_EVENTS = ["A01", "A04", "A08"];
var ALLERGIES = [
  "7980^Penicillin G^RXNORM",
  "2670^Codeine^RXNORM",
  "1191^Aspirin^RXNORM",
  "256349002^Peanut protein^SCT"
];
var DIAGNOSES = [
  "I10^Essential (primary) hypertension^I10",
  "E11.9^Type 2 diabetes mellitus without complications^I10",
  "J45.909^Unspecified asthma, uncomplicated^I10",
  "K21.9^Gastro-esophageal reflux disease without esophagitis^I10",
  "M54.50^Low back pain, unspecified^I10"
];
function generateHl7Corpus(options) {
  const prng = createPrng(checkOptions(options));
  const messages = [];
  let totalBytes = 0;
  let people = [];
  while (totalBytes < options.approxBytes) {
    if (messages.length % PEOPLE_PER_BLOCK === 0) {
      people = createPeople(prng, PEOPLE_PER_BLOCK);
    }
    const person = prng.pick(people);
    const context = {
      controlId: `MSG${String(messages.length + 1).padStart(9, "0")}`,
      time: sampleTime(messages.length)
    };
    const segments = messages.length % 2 === 0 ? buildBenchmarkAdt(prng, person, context) : buildBenchmarkOru(prng, person, context);
    const text = joinSegments(segments, "\r");
    messages.push(text);
    totalBytes += text.length;
  }
  return { bytes: new TextEncoder().encode(messages.join("")), recordCount: messages.length };
}
function buildBenchmarkAdt(prng, person, context) {
  const segments = buildAdtSegments(person, prng.pick(ADT_EVENTS), context);
  const note = createFreeText(prng, 4);
  const height = String(prng.int(150, 195));
  const weight = String(prng.int(45, 120));
  segments.push(
    hl7Segment("OBX", { 1: "1", 2: "NM", 3: "8302-2^Height^LN", 5: height, 6: "cm", 11: "F" }),
    hl7Segment("OBX", { 1: "2", 2: "NM", 3: "29463-7^Weight^LN", 5: weight, 6: "kg", 11: "F" }),
    hl7Segment("OBX", { 1: "3", 2: "TX", 3: "11329-0^History^LN", 5: escapeHl7(note), 11: "F" })
  );
  for (let index = 1; index <= 2; index++) {
    const allergen = prng.pick(ALLERGIES);
    segments.push(hl7Segment("AL1", { 1: String(index), 2: "DA", 3: allergen, 4: "MO" }));
  }
  for (let index = 1; index <= 2; index++) {
    const diagnosis = escapeHl7Coded(prng.pick(DIAGNOSES));
    segments.push(hl7Segment("DG1", { 1: String(index), 3: diagnosis, 6: "A" }));
  }
  return segments;
}
function buildBenchmarkOru(prng, person, context) {
  const results = [
    ...createLabResults(prng, 10),
    { valueType: "TX", code: "8251-1", display: "Service comment", value: createFreeText(prng, 3) }
  ];
  const notes = [createFreeText(prng, 2), createFreeText(prng, 1)];
  return buildOruSegments(person, context, results, notes);
}
function escapeHl7Coded(coded) {
  return coded.split("^").map(escapeHl7).join("^");
}
function checkOptions(options) {
  const seed = options.seed ?? DEFAULT_SEED;
  if (!Number.isInteger(seed)) {
    throw new RangeError("seed must be an integer");
  }
  if (!Number.isFinite(options.approxBytes) || options.approxBytes < 1) {
    throw new RangeError("approxBytes must be a positive number");
  }
  return seed;
}

// transforms/hl7/charset.ts
var CR = 13;
var LF = 10;
var BOM = [239, 187, 191];
var MSH_18 = 18;
var utf8Strict = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
var fatalDecoders = /* @__PURE__ */ new Map();
var WINDOWS_1252_HIGH = [
  8364,
  129,
  8218,
  402,
  8222,
  8230,
  8224,
  8225,
  710,
  8240,
  352,
  8249,
  338,
  141,
  381,
  143,
  144,
  8216,
  8217,
  8220,
  8221,
  8226,
  8211,
  8212,
  732,
  8482,
  353,
  8250,
  339,
  157,
  382,
  376
];
function decodeHl7Bytes(bytes2, messageIndex) {
  const body = startsWith(bytes2, BOM) ? bytes2.subarray(BOM.length) : bytes2;
  const offset = bytes2.length - body.length;
  const at = messageIndex === void 0 ? {} : { messageIndex };
  const declared = readDeclaredCharset(body);
  if (declared === void 0) {
    const text2 = decodeUtf8(body);
    if (text2 !== void 0) {
      return { ok: true, text: text2, charset: "utf-8" };
    }
    return { ok: true, text: decodeWindows1252(body), charset: "windows-1252" };
  }
  const charset = charsetFor(declared);
  if (charset === void 0) {
    const position = { ...at, segmentIndex: 1, segmentName: "MSH", field: "MSH-18" };
    return { ok: false, code: "HL7_UNSUPPORTED_CHARSET", position };
  }
  const text = decodeAs(charset, body);
  if (text === void 0) {
    const badOffset = charset === "utf-8" ? findInvalidUtf8(body) : void 0;
    const position = badOffset === void 0 ? at : { ...at, byteOffset: offset + badOffset };
    return { ok: false, code: "HL7_BAD_ENCODING", position };
  }
  return { ok: true, text, charset };
}
function readDeclaredCharset(bytes2) {
  if (bytes2.length < 4 || bytes2[0] !== 77 || bytes2[1] !== 83 || bytes2[2] !== 72) {
    return void 0;
  }
  const separator = bytes2[3];
  let lineEnd = 4;
  while (lineEnd < bytes2.length && bytes2[lineEnd] !== CR && bytes2[lineEnd] !== LF) {
    lineEnd++;
  }
  let field = 1;
  let start = 3;
  for (let index = 3; index < lineEnd && field < MSH_18; index++) {
    if (bytes2[index] === separator) {
      field++;
      start = index + 1;
    }
  }
  if (field !== MSH_18) {
    return void 0;
  }
  const encoding = bytes2.subarray(4, bytes2.indexOf(separator, 4));
  const component = encoding[0];
  const repetition = encoding[1];
  let value = "";
  for (let index = start; index < lineEnd; index++) {
    const byte = bytes2[index];
    if (byte === separator || byte === component || byte === repetition) {
      break;
    }
    value += String.fromCharCode(byte);
  }
  value = value.trim();
  return value === "" ? void 0 : value;
}
function charsetFor(declared) {
  const name = declared.toUpperCase().replace(/\s+/g, " ");
  if (["ASCII", "US-ASCII", "UNICODE", "UNICODE UTF-8", "UTF-8", "UTF8"].includes(name)) {
    return "utf-8";
  }
  if (["CP1252", "WINDOWS-1252", "WINDOWS1252"].includes(name)) {
    return "windows-1252";
  }
  const iso = /^(?:ISO[ _-]?)?8859[/_-]?(\d{1,2})$/.exec(name);
  const part = iso ? Number.parseInt(iso[1], 10) : 0;
  if (part >= 1 && part <= 9 || part === 15) {
    return `iso-8859-${part}`;
  }
  return void 0;
}
function decodeAs(charset, bytes2) {
  if (charset === "utf-8") {
    return decodeUtf8(bytes2);
  }
  if (charset === "windows-1252") {
    return decodeWindows1252(bytes2);
  }
  if (charset === "iso-8859-1") {
    return decodeLatin1(bytes2);
  }
  let decoder = fatalDecoders.get(charset);
  if (!decoder) {
    decoder = new TextDecoder(charset, { fatal: true });
    fatalDecoders.set(charset, decoder);
  }
  let decoded;
  try {
    decoded = decoder.decode(bytes2);
  } catch {
    return void 0;
  }
  if (!bytes2.some(isC1)) {
    return decoded;
  }
  const chars = [...decoded];
  bytes2.forEach((byte, index) => {
    if (isC1(byte)) {
      chars[index] = String.fromCharCode(byte);
    }
  });
  return chars.join("");
}
function decodeUtf8(bytes2) {
  try {
    return utf8Strict.decode(bytes2);
  } catch {
    return void 0;
  }
}
function decodeLatin1(bytes2) {
  let text = "";
  const chunkBytes = 8192;
  for (let start = 0; start < bytes2.length; start += chunkBytes) {
    text += String.fromCharCode(...bytes2.subarray(start, start + chunkBytes));
  }
  return text;
}
function decodeWindows1252(bytes2) {
  const latin1 = decodeLatin1(bytes2);
  if (!bytes2.some(isC1)) {
    return latin1;
  }
  let text = "";
  for (let index = 0; index < bytes2.length; index++) {
    const byte = bytes2[index];
    text += isC1(byte) ? String.fromCharCode(WINDOWS_1252_HIGH[byte - 128]) : latin1[index];
  }
  return text;
}
function isC1(byte) {
  return byte >= 128 && byte <= 159;
}
function startsWith(bytes2, prefix) {
  return prefix.every((byte, index) => bytes2[index] === byte);
}
function findInvalidUtf8(bytes2) {
  let index = 0;
  while (index < bytes2.length) {
    const lead = bytes2[index];
    if (lead < 128) {
      index++;
      continue;
    }
    let length;
    let min;
    if (lead >= 194 && lead <= 223) {
      [length, min] = [2, 128];
    } else if (lead >= 224 && lead <= 239) {
      [length, min] = [3, 2048];
    } else if (lead >= 240 && lead <= 244) {
      [length, min] = [4, 65536];
    } else {
      return index;
    }
    let codePoint = lead & 255 >> length + 1;
    for (let k = 1; k < length; k++) {
      const next = bytes2[index + k];
      if (next === void 0 || (next & 192) !== 128) {
        return index;
      }
      codePoint = codePoint << 6 | next & 63;
    }
    const surrogate = codePoint >= 55296 && codePoint <= 57343;
    if (codePoint < min || codePoint > 1114111 || surrogate) {
      return index;
    }
    index += length;
  }
  return void 0;
}

// transforms/hl7/datatypes.ts
var DATE_TIME = new RegExp(
  String.raw`^(\d{4})(?:(\d{2})(?:(\d{2})(?:(\d{2})(?:(\d{2})(?:(\d{2})(?:\.(\d{1,4}))?)?)?)?)?)?` + String.raw`(?:([+-])(\d{2})(\d{2}))?$`
);
var DAYS_IN_MONTH = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
var CHECKS = /* @__PURE__ */ new Map([
  ["NM", isHl7Number],
  ["DT", isHl7Date],
  ["DTM", isHl7DateTime],
  ["TS", isHl7DateTime]
]);
function parseHl7DateTime(text) {
  const match = DATE_TIME.exec(text);
  if (!match) {
    return badDateTime();
  }
  const number = (index) => match[index] === void 0 ? void 0 : Number(match[index]);
  const year = number(1);
  const month = number(2);
  const day = number(3);
  const hour = number(4);
  const minute = number(5);
  const second = number(6);
  const fraction = match[7];
  const zoneHour = number(9);
  const zoneMinute = number(10);
  if (month !== void 0 && (month < 1 || month > 12)) {
    return badDateTime();
  }
  if (month !== void 0 && day !== void 0 && !isDayInMonth(year, month, day)) {
    return badDateTime();
  }
  if ((hour ?? 0) > 23 || (minute ?? 0) > 59 || (second ?? 0) > 59) {
    return badDateTime();
  }
  if ((zoneHour ?? 0) > 14 || (zoneMinute ?? 0) > 59) {
    return badDateTime();
  }
  const value = { year, precision: "year" };
  const parts = [
    ["month", month, "month"],
    ["day", day, "day"],
    ["hour", hour, "hour"],
    ["minute", minute, "minute"],
    ["second", second, "second"]
  ];
  for (const [key, part, precision] of parts) {
    if (part !== void 0) {
      value[key] = part;
      value.precision = precision;
    }
  }
  if (fraction !== void 0) {
    value.fraction = fraction;
    value.precision = "fraction";
  }
  if (zoneHour !== void 0 && zoneMinute !== void 0) {
    const minutes = zoneHour * 60 + zoneMinute;
    value.offsetMinutes = match[8] === "-" && minutes !== 0 ? -minutes : minutes;
  }
  return { ok: true, value };
}
function badDateTime() {
  return { ok: false, code: "HL7_BAD_DATATYPE", position: {} };
}
function checkObservationValue(obx) {
  const check = checkFor(obx.getValue(2, 1, 1));
  if (!check) {
    return true;
  }
  const count = obx.repetitionCount(5);
  const isNumber = check === isHl7Number;
  for (let repetition = 1; repetition <= count; repetition++) {
    const whole = obx.getValue(5, repetition);
    if (whole === null || whole === "") {
      continue;
    }
    const value = isNumber ? whole : obx.getValue(5, repetition, 1) ?? "";
    const trimmed = value.trim();
    if (trimmed !== "" && !check(trimmed)) {
      return false;
    }
    if (trimmed === "" && whole.trim() !== "") {
      return false;
    }
  }
  return true;
}
function checkFor(valueType) {
  if (valueType === null || valueType.length < 2) {
    return void 0;
  }
  const exact = CHECKS.get(valueType);
  if (exact !== void 0 || !hasLowerCaseOrSpace(valueType)) {
    return exact;
  }
  return CHECKS.get(valueType.trim().toUpperCase());
}
function hasLowerCaseOrSpace(text) {
  for (let index = 0; index < text.length; index++) {
    const code = text.charCodeAt(index);
    if (code >= 97 && code <= 122 || isSpace(code)) {
      return true;
    }
  }
  return false;
}
function isHl7Number(text) {
  let index = 0;
  const length = text.length;
  const first = text.charCodeAt(0);
  if (first === 60 || first === 62) {
    index = 1;
    const second = text.charCodeAt(1);
    if (second === 61 || first === 60 && second === 62) {
      index = 2;
    }
  } else if (first === 61) {
    index = 1;
  }
  while (index < length && isSpace(text.charCodeAt(index))) {
    index++;
  }
  const sign = text.charCodeAt(index);
  if (sign === 43 || sign === 45) {
    index++;
  }
  let digits = 0;
  while (index < length && isDigit(text.charCodeAt(index))) {
    index++;
    digits++;
  }
  if (index < length && text.charCodeAt(index) === 46) {
    index++;
    while (index < length && isDigit(text.charCodeAt(index))) {
      index++;
      digits++;
    }
  }
  return digits > 0 && index === length;
}
function isDigit(code) {
  return code >= 48 && code <= 57;
}
function isSpace(code) {
  if (code < 128) {
    return code === 32 || code >= 9 && code <= 13;
  }
  return /\s/.test(String.fromCharCode(code));
}
function isHl7Date(text) {
  return /^\d{4}(?:\d{2}){0,2}$/.test(text) && isHl7DateTime(text);
}
function isHl7DateTime(text) {
  return parseHl7DateTime(text).ok;
}
function isDayInMonth(year, month, day) {
  if (day < 1 || day > DAYS_IN_MONTH[month - 1]) {
    return false;
  }
  const leap = year % 4 === 0 && year % 100 !== 0 || year % 400 === 0;
  return month !== 2 || day <= 28 || leap;
}

// transforms/deid/free-text.ts
var MONTH = "(?:January|February|March|April|May|June|July|August|September|October|November|December|Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sept|Sep|Oct|Nov|Dec)";
var LABEL = String.raw`(?:\s+(?:number|num|no\.?|#))?`;
var ID_KEYWORDS = "(?:MRN|MR#|medical\\s+record" + LABEL + "|record" + LABEL + "|acct" + LABEL + "|account" + LABEL + "|policy" + LABEL + "|member\\s+id|subscriber\\s+id|claim" + LABEL + "|chart" + LABEL + "|patient\\s+id|visit" + LABEL + "|encounter" + LABEL + "|licen[cs]e" + LABEL + "|certificate" + LABEL + "|serial" + LABEL + "|device\\s+id|plate" + LABEL + "|VIN|ID)";
var pattern = (kind, source, group = 0, flags = "g") => ({
  kind,
  regex: new RegExp(source, `${flags}d`),
  group
});
var PATTERNS = [
  pattern("email", String.raw`[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+`),
  pattern("url", String.raw`\b(?:(?:https?|ftp):\/\/|www\.)[^\s<>"'|^~\\]*[^\s<>"'|^~\\.,;:!?)\]]`, 0, "gi"),
  pattern(
    "ip",
    String.raw`\b(?:25[0-5]|2[0-4]\d|1?\d?\d)(?:\.(?:25[0-5]|2[0-4]\d|1?\d?\d)){3}\b|\b(?:[0-9A-Fa-f]{1,4}:){4,7}[0-9A-Fa-f]{1,4}\b`
  ),
  pattern("ssn", String.raw`\b\d{3}-\d{2}-\d{4}\b|\b\d{3} \d{2} \d{4}\b`),
  pattern("ssn", String.raw`\bSSN\s*:?\s*(\d{9})\b`, 1, "gi"),
  pattern(
    "phone",
    String.raw`(?:\+?1[\s.-]?)?(?:\(\d{3}\)\s?|\b\d{3}[\s.-])\d{3}[\s.-]\d{4}\b|\b\d{3}[.-]\d{4}\b(?!-)`
  ),
  pattern(
    "date",
    [
      String.raw`\b\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?`,
      String.raw`\b\d{1,2}[/-]\d{1,2}[/-](?:\d{4}|\d{2})\b`,
      String.raw`\b\d{1,2}\.\d{1,2}\.\d{4}\b`,
      String.raw`\b(?:18|19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])(?:\d{4}(?:\d{2})?)?\b`,
      String.raw`\b${MONTH}\.?\s+\d{1,2}(?:st|nd|rd|th)?(?:,?\s+\d{4})?\b`,
      String.raw`\b\d{1,2}(?:st|nd|rd|th)?\s+(?:of\s+)?${MONTH}\.?,?(?:\s+\d{4})?\b`,
      String.raw`\b${MONTH}\.?,?\s+\d{4}\b`
    ].join("|"),
    0,
    "gi"
  ),
  pattern("zip", String.raw`\b[A-Z]{2},?\s{1,3}(\d{5}(?:-\d{4})?)\b`, 1),
  pattern("zip", String.raw`\b\d{5}-\d{4}\b`),
  pattern("zip", String.raw`\b(?:zip|zip\s+code|postal\s+code)\s*:?\s*(\d{5}(?:-\d{4})?)\b`, 1, "gi"),
  pattern("id", String.raw`\b${ID_KEYWORDS}\s*[:#]?\s*([A-Z0-9][A-Z0-9-]*\d[A-Z0-9-]*)`, 1, "gi"),
  pattern("id", String.raw`\b[A-Z]{2,5}[-#]?\d{5,}\b|\b\d{7,}\b`, 0, "gi")
];

// transforms/deid/hl7-selector.ts
var SELECTOR = /^\s*([A-Z][A-Z0-9]{2}|[A-Z][A-Z0-9]?\*)-(\d{1,3}|\*)(?:\s+where\s+([A-Z][A-Z0-9]{2})-(\d{1,3})\s+(?:in\s*\(([^)]*)\)|=\s*(\S+)))?\s*$/;
var VALUE = /^[A-Za-z0-9_.-]{1,20}$/;
function parseHl7Selector(text) {
  const match = SELECTOR.exec(text);
  if (match === null) {
    throw new RangeError("Expected an HL7 selector like PID-5, NK1-* or OBX-5 where OBX-2 in (TX)");
  }
  const [, segment, field, whereSegment, whereField, list, single] = match;
  const selector = { segment, field: field === "*" ? "*" : Number(field) };
  if (selector.field !== "*" && selector.field < 1) {
    throw new RangeError("Expected a field number of 1 or more");
  }
  if (whereSegment === void 0) {
    return selector;
  }
  if (whereSegment !== segment) {
    throw new RangeError("Expected the condition to read the same segment");
  }
  const values = (list ?? single).split(",").map((value) => value.trim());
  if (values.some((value) => !VALUE.test(value))) {
    throw new RangeError("Expected condition values of letters, digits, dot, dash or underscore");
  }
  selector.where = { field: Number(whereField), values: values.map((v) => v.toUpperCase()) };
  return selector;
}

// transforms/deid/presets.ts
var REDACT = { method: "redact" };
var SHIFT = { method: "dateShift" };
var SCRUB = { method: "scrub" };
var PATIENT_ID = { method: "cryptoHash", namespace: "patient-id", part: "id" };
var ACCOUNT = { method: "cryptoHash", namespace: "account", part: "id" };
var VISIT = { method: "cryptoHash", namespace: "visit", part: "id" };
var OTHER_ID = { method: "cryptoHash", namespace: "other", part: "id" };
var generalize = (to) => ({ method: "generalize", to });
var ADDRESS = generalize("address-state");
var BIRTH = generalize("birth-year");
var YEAR = generalize("year");
function fields(segment, positions, method) {
  return positions.map((position) => ({ path: `${segment}-${position}`, ...method }));
}
var SAFE_HARBOR_HL7 = Object.freeze([
  // The control id is unique per message and could be traced back to the sender's log.
  { path: "MSH-10", method: "cryptoHash", namespace: "message" },
  ...fields("MSH", [7], SHIFT),
  ...fields("EVN", [2, 3, 6], SHIFT),
  // PID-2/3/4 patient ids and PID-21 mother's id share a namespace, so the same MRN matches.
  ...fields("PID", [2, 3, 4, 21], PATIENT_ID),
  ...fields("PID", [18], ACCOUNT),
  // Names, alias, mother's maiden name, county, phones, SSN, licence, birth place, telecom.
  ...fields("PID", [5, 6, 9, 12, 13, 14, 19, 20, 23, 40], REDACT),
  ...fields("PID", [11], ADDRESS),
  ...fields("PID", [7], BIRTH),
  ...fields("PID", [29], YEAR),
  ...fields("PID", [33], SHIFT),
  ...fields("PD1", [13, 16, 17, 18], SHIFT),
  // Visit numbers; PV1 providers are staff, not the patient, and stay.
  ...fields("PV1", [5, 19, 50], VISIT),
  ...fields("PV1", [44, 45], SHIFT),
  ...fields("PV2", [8, 9, 26, 33], SHIFT),
  ...fields("PV2", [12], SCRUB),
  // Prior ids use the same namespaces as PID and PV1, so a merge points at the same pseudonyms.
  ...fields("MRG", [1, 2, 3], PATIENT_ID),
  ...fields("MRG", [4], ACCOUNT),
  ...fields("MRG", [5, 6], VISIT),
  ...fields("MRG", [7], REDACT),
  // Next of kin: names, phones, organisation, maiden name, SSN, birth place, telecom.
  ...fields("NK1", [2, 5, 6, 13, 26, 30, 31, 37, 38, 40, 41], REDACT),
  ...fields("NK1", [4, 32], ADDRESS),
  ...fields("NK1", [16], BIRTH),
  ...fields("NK1", [8, 9], SHIFT),
  ...fields("NK1", [12, 33], OTHER_ID),
  // The guarantor and the insured are often the patient or a relative.
  ...fields("GT1", [3, 4, 6, 7, 12, 16, 18, 19, 21, 44], REDACT),
  ...fields("GT1", [2], OTHER_ID),
  ...fields("GT1", [5, 17], ADDRESS),
  ...fields("GT1", [8], BIRTH),
  ...fields("GT1", [13, 14], SHIFT),
  ...fields("IN1", [9, 10, 11, 16], REDACT),
  ...fields("IN1", [8, 36], { method: "cryptoHash", namespace: "other" }),
  ...fields("IN1", [49], OTHER_ID),
  ...fields("IN1", [19, 44], ADDRESS),
  ...fields("IN1", [18], BIRTH),
  ...fields("IN1", [12, 13, 26, 29], SHIFT),
  ...fields("IN2", [1, 2, 3, 6, 7, 8, 9, 10, 63, 64], REDACT),
  ...fields("IN2", [61], OTHER_ID),
  // Order and specimen numbers are accession numbers: unique codes that lead back to a patient.
  ...fields("ORC", [2, 3, 4], OTHER_ID),
  ...fields("ORC", [9, 15], SHIFT),
  ...fields("OBR", [2, 3, 53], OTHER_ID),
  ...fields("OBR", [6, 7, 8, 14, 22, 36], SHIFT),
  ...fields("OBR", [13], SCRUB),
  ...fields("SPM", [2, 3], OTHER_ID),
  ...fields("SPM", [17, 18, 19], SHIFT),
  ...fields("TQ1", [7, 8], SHIFT),
  ...fields("RXA", [3, 4, 16], SHIFT),
  ...fields("AL1", [6], SHIFT),
  ...fields("AL1", [5], SCRUB),
  ...fields("DG1", [5, 19], SHIFT),
  ...fields("DG1", [4], SCRUB),
  ...fields("PR1", [5], SHIFT),
  ...fields("TXA", [4, 6, 7, 8], SHIFT),
  ...fields("TXA", [12, 13], OTHER_ID),
  ...fields("ACC", [1], SHIFT),
  ...fields("ACC", [3], REDACT),
  ...fields("OBX", [12, 14, 19], SHIFT),
  // OBX-5 follows its type in OBX-2: free text is scrubbed, dates shifted, documents dropped.
  { path: "OBX-5 where OBX-2 in (TX, FT, ST)", ...SCRUB },
  { path: "OBX-5 where OBX-2 in (DT, DTM, TS)", ...SHIFT },
  { path: "OBX-5 where OBX-2 = ED", method: "embeddedDocument" },
  // Typed values that are names, contact points, addresses or ids get the rule of their type.
  { path: "OBX-5 where OBX-2 in (XPN, XTN, PN, TN)", ...REDACT },
  { path: "OBX-5 where OBX-2 in (XAD, AD)", ...ADDRESS },
  { path: "OBX-5 where OBX-2 in (CX, EI)", ...OTHER_ID },
  { path: "NTE-3", ...SCRUB },
  // Z-segments are local: nothing says what they hold.
  { path: "Z*-*", ...REDACT }
]);
function toLimitedDataSet(rule) {
  if (rule.method === "dateShift") {
    return { path: rule.path, method: "keep" };
  }
  if (rule.method === "generalize") {
    if (rule.to === "address-state") {
      return { path: rule.path, method: "generalize", to: "address-town" };
    }
    return { path: rule.path, method: "keep" };
  }
  return rule;
}
var LIMITED_DATA_SET_HL7 = Object.freeze(
  SAFE_HARBOR_HL7.map(toLimitedDataSet)
);

// transforms/deid/rules.ts
import { parse as parseYaml } from "yaml";
import { z } from "zod";
var DEFAULT_DATE_SHIFT_RANGE_DAYS = 365;
var namespaceSchema = z.enum(["patient-id", "account", "visit", "message", "other"]);
var methodSchema = z.discriminatedUnion("method", [
  z.object({ method: z.literal("keep") }).strict(),
  z.object({ method: z.literal("redact") }).strict(),
  z.object({
    method: z.literal("cryptoHash"),
    namespace: namespaceSchema.optional(),
    part: z.enum(["whole", "id"]).optional()
  }).strict(),
  z.object({ method: z.literal("dateShift") }).strict(),
  z.object({
    method: z.literal("generalize"),
    to: z.enum(["zip3", "address-state", "address-town", "year", "birth-year", "age"])
  }).strict(),
  z.object({ method: z.literal("substitute"), value: z.string().max(256) }).strict(),
  z.object({
    method: z.literal("perturb"),
    span: z.number().positive().max(1),
    roundTo: z.number().int().min(0).max(6).optional()
  }).strict(),
  z.object({ method: z.literal("encrypt") }).strict(),
  z.object({ method: z.literal("scrub") }).strict(),
  z.object({ method: z.literal("embeddedDocument") }).strict()
]);
var pathSchema = z.object({ path: z.string().min(1).max(500) });
var hl7RuleSchema = z.intersection(pathSchema, methodSchema).superRefine((rule, context) => {
  try {
    parseHl7Selector(rule.path);
  } catch {
    context.addIssue({ code: "custom", path: ["path"], message: "Not an HL7 field selector" });
  }
});
var fhirRuleSchema = z.intersection(pathSchema, methodSchema);
var rulesFileSchema = z.object({
  dateShift: z.object({ rangeDays: z.number().int().min(1).max(3650) }).strict().optional(),
  embeddedDocuments: z.enum(["drop", "encrypt"]).optional(),
  hl7: z.array(hl7RuleSchema).max(1e3).optional(),
  fhir: z.array(fhirRuleSchema).max(1e3).optional()
}).strict();

// transforms/deid/compile.ts
var DEFAULT_DEID_RULES = Object.freeze({
  preset: "safe-harbor",
  dateShiftRangeDays: DEFAULT_DATE_SHIFT_RANGE_DAYS,
  embeddedDocuments: "drop",
  hl7: [],
  fhir: []
});

// transforms/hl7/escape.ts
var MAX_SPACE_LINES = 100;
var X = 88;
var utf8Lenient = new TextDecoder("utf-8");
var lenientDecoders = /* @__PURE__ */ new Map();
function unescapeHl7(text, delimiters, charset) {
  if (text.indexOf(delimiters.escape) === -1) {
    return text;
  }
  return decodeEscapes(text, delimiters, charset);
}
function escapeHl72(value, delimiters) {
  if (value === '""') {
    return `${delimiters.escape}X2222${delimiters.escape}`;
  }
  const e = delimiters.escape;
  const special = [e, delimiters.field, delimiters.component, delimiters.subcomponent, delimiters.repetition];
  const codes = ["E", "F", "S", "T", "R"];
  if (delimiters.truncation !== void 0) {
    special.push(delimiters.truncation);
    codes.push("P");
  }
  special.push("\r", "\n");
  codes.push("X0D", "X0A");
  let out = "";
  let copied = 0;
  for (let index = 0; index < value.length; index++) {
    const which = special.indexOf(value[index]);
    if (which !== -1) {
      out += value.slice(copied, index) + e + codes[which] + e;
      copied = index + 1;
    }
  }
  return copied === 0 ? value : out + value.slice(copied);
}
function findBadEscape(text, from, d, charset, to = text.length) {
  const escape = d.escape;
  let start = indexBefore(text, escape, from, to);
  let copied = from;
  let pending;
  let pendingStart = -1;
  while (start !== -1) {
    const close = closingEscape(text, start, d, to);
    if (close === -1) {
      start = indexBefore(text, escape, start + 1, to);
      continue;
    }
    if (text.charCodeAt(start + 1) === X && isHexRun(text, start + 2, close)) {
      const digits = close - start - 2;
      if (digits === 0 || digits % 2 !== 0) {
        return pending && start > copied && !decodesIn(pending, charset) ? pendingStart : start;
      }
      if (pending && start > copied) {
        if (!decodesIn(pending, charset)) {
          return pendingStart;
        }
        pending = void 0;
      }
      if (!pending) {
        pending = [];
        pendingStart = start;
      }
      pushHexBytes(text, start + 2, close, pending);
      copied = close + 1;
      start = indexBefore(text, escape, close + 1, to);
      continue;
    }
    if (namedEscape(text, start + 1, close, d) === void 0) {
      start = indexBefore(text, escape, start + 1, to);
      continue;
    }
    if (pending) {
      if (!decodesIn(pending, charset)) {
        return pendingStart;
      }
      pending = void 0;
    }
    copied = close + 1;
    start = indexBefore(text, escape, close + 1, to);
  }
  return pending && !decodesIn(pending, charset) ? pendingStart : -1;
}
function decodeEscapes(text, d, charset) {
  const escape = d.escape;
  let out = "";
  let copied = 0;
  let pending;
  let start = text.indexOf(escape);
  while (start !== -1) {
    const close = closingEscape(text, start, d);
    if (close === -1) {
      start = text.indexOf(escape, start + 1);
      continue;
    }
    if (text.charCodeAt(start + 1) === X && isHexRun(text, start + 2, close)) {
      const digits = close - start - 2;
      if (digits !== 0 && digits % 2 === 0) {
        if (start > copied) {
          if (pending) {
            out += bytesToText(pending, charset);
            pending = void 0;
          }
          out += text.slice(copied, start);
        }
        pending ??= [];
        pushHexBytes(text, start + 2, close, pending);
        copied = close + 1;
        start = text.indexOf(escape, close + 1);
      } else {
        start = text.indexOf(escape, close + 1);
      }
      continue;
    }
    const decoded = namedEscape(text, start + 1, close, d);
    if (decoded === void 0) {
      start = text.indexOf(escape, start + 1);
      continue;
    }
    if (pending) {
      if (start > copied) {
        out += bytesToText(pending, charset) + text.slice(copied, start);
      } else {
        out += bytesToText(pending, charset);
      }
      pending = void 0;
    } else {
      out += text.slice(copied, start);
    }
    out += decoded;
    copied = close + 1;
    start = text.indexOf(escape, close + 1);
  }
  if (pending) {
    out += bytesToText(pending, charset);
  }
  return out + text.slice(copied);
}
function closingEscape(text, start, d, to = text.length) {
  const escape = d.escape.charCodeAt(0);
  const field = d.field.charCodeAt(0);
  const component = d.component.charCodeAt(0);
  const repetition = d.repetition.charCodeAt(0);
  const subcomponent = d.subcomponent.charCodeAt(0);
  const truncation = d.truncation === void 0 ? -1 : d.truncation.charCodeAt(0);
  for (let index = start + 1; index < to; index++) {
    const code = text.charCodeAt(index);
    if (code === escape) {
      return index === start + 1 ? -1 : index;
    }
    if (code === field || code === component || code === repetition || code === subcomponent || code === truncation) {
      return -1;
    }
  }
  return -1;
}
function indexBefore(text, search, from, to) {
  const at = text.indexOf(search, from);
  return at < to ? at : -1;
}
function isHexRun(text, start, end) {
  for (let index = start; index < end; index++) {
    if (hexValue(text.charCodeAt(index)) < 0) {
      return false;
    }
  }
  return true;
}
function hexValue(code) {
  if (code >= 48 && code <= 57) {
    return code - 48;
  }
  const lower = code | 32;
  return lower >= 97 && lower <= 102 ? lower - 97 + 10 : -1;
}
function pushHexBytes(text, start, end, bytes2) {
  for (let index = start; index < end; index += 2) {
    bytes2.push(hexValue(text.charCodeAt(index)) << 4 | hexValue(text.charCodeAt(index + 1)));
  }
}
function decodesIn(bytes2, charset) {
  return charset === void 0 || decodeAs(charset, Uint8Array.from(bytes2)) !== void 0;
}
function bytesToText(bytes2, charset) {
  const array = Uint8Array.from(bytes2);
  if (charset === void 0) {
    return decodeAs("utf-8", array) ?? decodeWindows1252(array);
  }
  const strict = decodeAs(charset, array);
  if (strict !== void 0) {
    return strict;
  }
  if (charset === "utf-8") {
    return utf8Lenient.decode(array);
  }
  let decoder = lenientDecoders.get(charset);
  if (!decoder) {
    decoder = new TextDecoder(charset);
    lenientDecoders.set(charset, decoder);
  }
  return decoder.decode(array);
}
function namedEscape(text, start, end, d) {
  if (end === start + 1) {
    switch (text[start]) {
      case "F":
        return d.field;
      case "S":
        return d.component;
      case "T":
        return d.subcomponent;
      case "R":
        return d.repetition;
      case "E":
        return d.escape;
      case "P":
        return d.truncation ?? d.escape + "P" + d.escape;
      case "H":
      case "N":
        return "";
    }
  }
  const content = text.slice(start, end);
  if (/^(?:C[0-9A-Fa-f]{4}|M[0-9A-Fa-f]{4}(?:[0-9A-Fa-f]{2})?|Z.*)$/.test(content)) {
    return d.escape + content + d.escape;
  }
  if (content === ".br") {
    return "\n";
  }
  const space = /^\.sp\s*\+?(\d*)$/.exec(content);
  if (space) {
    const lines = space[1] === "" ? 1 : Number.parseInt(space[1], 10);
    return "\n".repeat(Math.min(Math.max(lines, 1), MAX_SPACE_LINES));
  }
  if (/^\.(?:(?:in|ti|sk)\s*[+-]?\d*|ce|fi|nf)$/.test(content)) {
    return "";
  }
  return void 0;
}

// transforms/hl7/repetition.ts
var NULL_VALUE = '""';
var Hl7Repetition = class {
  text;
  delimiters;
  charset;
  /**
   * @param text - the repetition as written (escaped)
   * @param delimiters - the delimiters of its message
   * @param charset - its message's declared character set, for `\X..\`; omit when undeclared
   */
  constructor(text, delimiters, charset) {
    this.text = text;
    this.delimiters = delimiters;
    this.charset = charset;
  }
  /**
   * Reads the whole repetition, a component or a subcomponent, unescaped. `""` reads as `null`,
   * an absent part as ''.
   *
   * @param component - component number; omit for the whole repetition
   * @param subcomponent - subcomponent number; omit for the whole component
   */
  get(component, subcomponent) {
    const d = this.delimiters;
    let part = this.text;
    if (component !== void 0) {
      part = part.split(d.component)[component - 1] ?? "";
      if (subcomponent !== void 0) {
        part = part.split(d.subcomponent)[subcomponent - 1] ?? "";
      }
    }
    return part === NULL_VALUE ? null : unescapeHl7(part, d, this.charset);
  }
  /**
   * Writes the whole repetition, a component or a subcomponent, escaping the value. `null`
   * writes `""`; trailing empty parts are trimmed.
   *
   * @param value - the new value, unescaped
   * @param component - component number; omit to replace the whole repetition
   * @param subcomponent - subcomponent number; omit to replace the whole component
   */
  set(value, component, subcomponent) {
    const d = this.delimiters;
    const written = value === null ? NULL_VALUE : escapeHl72(value, d);
    if (component === void 0) {
      this.text = written;
      return;
    }
    const components = this.text === "" ? [] : this.text.split(d.component);
    if (subcomponent === void 0) {
      components[component - 1] = written;
    } else {
      const current = components[component - 1] ?? "";
      const subcomponents = current === "" ? [] : current.split(d.subcomponent);
      subcomponents[subcomponent - 1] = written;
      components[component - 1] = joinParts(subcomponents, d.subcomponent);
    }
    this.text = joinParts(components, d.component);
  }
  /** The repetition as it is now written (escaped). */
  toText() {
    return this.text;
  }
};
function joinParts(parts, delimiter) {
  const filled = Array.from(parts, (part) => part ?? "");
  let end = filled.length;
  while (end > 0 && filled[end - 1] === "") {
    end--;
  }
  return filled.slice(0, end).join(delimiter);
}

// transforms/hl7/delimiters.ts
var STANDARD_HL7_DELIMITERS = Object.freeze({
  field: "|",
  component: "^",
  repetition: "~",
  escape: "\\",
  subcomponent: "&"
});
function isDelimiterChar(char) {
  if (char.length !== 1) {
    return false;
  }
  const code = char.charCodeAt(0);
  if (code < 33 || code === 127 || code >= 128 && code <= 160) {
    return false;
  }
  return !/[\p{L}\p{N}\p{Z}]/u.test(char);
}
function readDelimiters(fieldSeparator, encodingCharacters) {
  const key = fieldSeparator + encodingCharacters;
  const cached = delimiterCache.get(key);
  if (cached !== void 0 || delimiterCache.has(key)) {
    return cached;
  }
  const delimiters = readDelimitersUncached(fieldSeparator, encodingCharacters);
  if (delimiterCache.size >= DELIMITER_CACHE_LIMIT) {
    delimiterCache.clear();
  }
  delimiterCache.set(key, delimiters);
  return delimiters;
}
var DELIMITER_CACHE_LIMIT = 256;
var delimiterCache = /* @__PURE__ */ new Map();
function readDelimitersUncached(fieldSeparator, encodingCharacters) {
  let chars = [...encodingCharacters];
  if (chars.length === 5 && chars[2] === "\\" && chars[3] === "\\") {
    chars = [chars[0], chars[1], chars[2], chars[4]];
  }
  if (chars.length < 4 || chars.length > 5) {
    return void 0;
  }
  const all = [fieldSeparator, ...chars];
  if (!all.every(isDelimiterChar) || new Set(all).size !== all.length) {
    return void 0;
  }
  const delimiters = {
    field: fieldSeparator,
    component: chars[0],
    repetition: chars[1],
    escape: chars[2],
    subcomponent: chars[3]
  };
  if (chars.length === 5) {
    delimiters.truncation = chars[4];
  }
  return Object.freeze(delimiters);
}

// transforms/hl7/message.ts
var PATH_PATTERN = /^([A-Z][A-Z0-9]{2})-(\d+)(?:\[(\d+)\])?(?:\.(\d+)(?:\.(\d+))?)?$/;
var PATH_CACHE_LIMIT = 1e3;
var pathCache = /* @__PURE__ */ new Map();
function readPath(path) {
  const cached = pathCache.get(path);
  if (cached) {
    return cached;
  }
  const match = PATH_PATTERN.exec(path);
  const numbers = match?.slice(2).map((part) => part === void 0 ? void 0 : Number(part));
  if (!match || !numbers || numbers.some((n) => n !== void 0 && n < 1)) {
    throw new RangeError(`Expected an HL7 field path like PID-3[2].1.2, got ${path}`);
  }
  const [field, repetition, component, subcomponent] = numbers;
  const parsed = Object.freeze({
    segmentName: match[1],
    field,
    repetition,
    component,
    subcomponent
  });
  if (pathCache.size >= PATH_CACHE_LIMIT) {
    pathCache.clear();
  }
  pathCache.set(path, parsed);
  return parsed;
}
var DelimiterFinder = class {
  constructor(text, delimiter) {
    this.text = text;
    this.delimiter = delimiter;
  }
  text;
  delimiter;
  from = 0;
  at = -2;
  /** The first index of the delimiter at or after `from`, or -1. */
  next(from) {
    const at = this.at;
    if (at !== -2 && from >= this.from && (at === -1 || from <= at)) {
      return at;
    }
    this.from = from;
    this.at = this.text.indexOf(this.delimiter, from);
    return this.at;
  }
};
var Hl7Text = class {
  text;
  repetitions;
  components;
  subcomponents;
  /**
   * @param text - the message text
   * @param delimiters - its delimiters
   */
  constructor(text, delimiters) {
    this.text = text;
    this.repetitions = new DelimiterFinder(text, delimiters.repetition);
    this.components = new DelimiterFinder(text, delimiters.component);
    this.subcomponents = new DelimiterFinder(text, delimiters.subcomponent);
  }
};
var partStart = 0;
var partEnd = 0;
function narrow(finder, start, end, n) {
  let from = start;
  for (let k = 1; k < n; k++) {
    const at2 = finder.next(from);
    if (at2 === -1 || at2 >= end) {
      partStart = end;
      partEnd = end;
      return;
    }
    from = at2 + 1;
  }
  const at = finder.next(from);
  partStart = from;
  partEnd = at === -1 || at >= end ? end : at;
}
function narrowString(text, start, end, delimiter, n) {
  let from = start;
  for (let k = 1; k < n; k++) {
    const at2 = text.indexOf(delimiter, from);
    if (at2 === -1 || at2 >= end) {
      partStart = end;
      partEnd = end;
      return;
    }
    from = at2 + 1;
  }
  const at = text.indexOf(delimiter, from);
  partStart = from;
  partEnd = at === -1 || at >= end ? end : at;
}
var Hl7Segment = class {
  /** Segment id, such as `PID`. */
  name;
  /** One-based position in the HL7 message (MSH is 1). */
  index;
  /** The terminator that followed the segment as written: `\r`, `\r\n`, `\n`, or '' at the end. */
  terminator;
  /** The message's declared character set (WHATWG name), for `\X..\`; undefined when undeclared. */
  charset;
  delimiters;
  /** 1 for MSH, whose field 1 is the separator right after the name; 0 for other segments. */
  shift;
  /** The text the segment is in (usually its whole message), and where in it the segment is. */
  shared;
  source;
  begin;
  finish;
  /** Positions in `source` of the field separators found so far, in order; none until a read. */
  separators;
  separatorsComplete = false;
  /** The field strings, once something is set; then they are the segment's truth. */
  fields;
  dirty = false;
  /**
   * @param name - segment id
   * @param index - one-based position in the HL7 message
   * @param raw - the segment's text as written, without its terminator; or, with `start` and
   *   `end`, the message text it is part of (`parseHl7` passes that, which saves a copy per
   *   segment)
   * @param terminator - the terminator that followed it
   * @param delimiters - the delimiters of its message
   * @param charset - the message's declared character set; omit when MSH-18 is empty
   * @param start - where the segment starts in `raw`; default 0
   * @param end - where it ends in `raw` (its terminator's index); default the end of `raw`
   */
  constructor(name, index, raw, terminator, delimiters, charset, start = 0, end = typeof raw === "string" ? raw.length : raw.text.length) {
    this.name = name;
    this.index = index;
    this.shared = typeof raw === "string" ? void 0 : raw;
    this.source = typeof raw === "string" ? raw : raw.text;
    this.begin = start;
    this.finish = end;
    this.terminator = terminator;
    this.delimiters = delimiters;
    this.charset = charset;
    this.shift = name === "MSH" ? 1 : 0;
  }
  /** True once anything in the segment has been set. */
  get modified() {
    return this.dirty;
  }
  /** The highest field number present (0 for a segment with no fields). */
  get fieldCount() {
    if (this.fields) {
      return this.fields.length - 1;
    }
    const count = this.findSeparators(Number.MAX_SAFE_INTEGER).length;
    return count === 0 ? 0 : count + this.shift;
  }
  /**
   * The raw (still escaped) text of a field, '' when absent.
   *
   * @param field - field number
   */
  getFieldText(field) {
    if (this.fields) {
      return this.fields[field] ?? "";
    }
    if (!this.locateField(field)) {
      return "";
    }
    return this.source.slice(partStart, partEnd);
  }
  /**
   * How many repetitions a field has (0 when empty).
   *
   * @param field - field number
   */
  repetitionCount(field) {
    const text = this.getFieldText(field);
    if (text === "" || this.isVerbatim(field)) {
      return text === "" ? 0 : 1;
    }
    const separator = this.delimiters.repetition;
    let count = 1;
    for (let at = text.indexOf(separator); at !== -1; at = text.indexOf(separator, at + 1)) {
      count++;
    }
    return count;
  }
  /**
   * Reads one part of a field, unescaped; see the path rules at the top of this file.
   *
   * @param field - field number
   * @param repetition - repetition number, default 1
   * @param component - component number; omit for the whole repetition
   * @param subcomponent - subcomponent number; omit for the whole component
   */
  getValue(field, repetition = 1, component, subcomponent) {
    if (this.isVerbatim(field)) {
      return repetition === 1 && component === void 0 ? this.getFieldText(field) : "";
    }
    const d = this.delimiters;
    if (this.fields) {
      const text = this.fields[field] ?? "";
      narrowString(text, 0, text.length, d.repetition, repetition);
      if (component !== void 0) {
        narrowString(text, partStart, partEnd, d.component, component);
        if (subcomponent !== void 0) {
          narrowString(text, partStart, partEnd, d.subcomponent, subcomponent);
        }
      }
      return this.valueAt(text);
    }
    if (!this.locateField(field)) {
      return "";
    }
    const shared = this.shared ??= new Hl7Text(this.source, d);
    narrow(shared.repetitions, partStart, partEnd, repetition);
    if (component !== void 0) {
      narrow(shared.components, partStart, partEnd, component);
      if (subcomponent !== void 0) {
        narrow(shared.subcomponents, partStart, partEnd, subcomponent);
      }
    }
    return this.valueAt(this.source);
  }
  /** The value at `[partStart, partEnd)` of `text`: `null` for `""`, else unescaped. */
  valueAt(text) {
    if (partEnd - partStart === 2 && text.startsWith(NULL_VALUE, partStart)) {
      return null;
    }
    const value = text.slice(partStart, partEnd);
    return unescapeHl7(value, this.delimiters, this.charset);
  }
  /**
   * Reads a DTM or TS part as a date/time, keeping its precision and offset; see
   * `parseHl7DateTime`. For a TS field, the time is component 1: pass `component` 1, or leave it
   * out and it is taken for you. `value` is `undefined` for an empty part and `null` for HL7's
   * explicit null; text that is not a date/time gives `HL7_BAD_DATATYPE` with the position.
   *
   * @param field - field number
   * @param repetition - repetition number, default 1
   * @param component - component number; default 1
   */
  getDateTime(field, repetition = 1, component = 1) {
    const value = this.getValue(field, repetition, component);
    if (value === null) {
      return { ok: true, value: null };
    }
    const text = value.trim();
    if (text === "") {
      return { ok: true, value: void 0 };
    }
    const parsed = parseHl7DateTime(text);
    if (!parsed.ok) {
      return {
        ok: false,
        code: parsed.code,
        position: { segmentIndex: this.index, segmentName: this.name, field: `${this.name}-${field}` }
      };
    }
    return parsed;
  }
  /**
   * The repetitions of a field, for reading several parts without splitting it again.
   *
   * @param field - field number (MSH-1 and MSH-2 have none)
   */
  repetitions(field) {
    const text = this.getFieldText(field);
    if (text === "" || this.isVerbatim(field)) {
      return [];
    }
    return text.split(this.delimiters.repetition).map((r) => new Hl7Repetition(r, this.delimiters, this.charset));
  }
  /**
   * Edits every repetition of a field in one pass, then writes the field back once.
   *
   * @param field - field number (MSH-1 and MSH-2 cannot be set)
   * @param edit - called with each repetition and its zero-based position
   */
  editRepetitions(field, edit) {
    this.assertSettable(field);
    const repetitions = this.repetitions(field);
    if (repetitions.length === 0) {
      return;
    }
    repetitions.forEach(edit);
    const texts2 = repetitions.map((repetition) => repetition.toText());
    this.splitFields()[field] = joinParts(texts2, this.delimiters.repetition);
    this.dirty = true;
  }
  /**
   * Reads a path such as `PID-3[2].1`; the segment name in the path must be this segment's.
   *
   * @param path - field path
   */
  get(path) {
    const p = this.ownPath(path);
    return this.getValue(p.field, p.repetition, p.component, p.subcomponent);
  }
  /**
   * Writes one part of a field; see the path rules at the top of this file.
   *
   * @param value - the new value, unescaped; `null` writes HL7's explicit null `""`
   * @param field - field number (MSH-1 and MSH-2 cannot be set)
   * @param repetition - repetition number; omit to replace the whole field
   * @param component - component number; omit to replace the whole repetition
   * @param subcomponent - subcomponent number; omit to replace the whole component
   */
  setValue(value, field, repetition, component, subcomponent) {
    this.assertSettable(field);
    const d = this.delimiters;
    const fields2 = this.splitFields();
    while (fields2.length <= field) {
      fields2.push("");
    }
    if (repetition === void 0 && component === void 0) {
      const whole = new Hl7Repetition("", d, this.charset);
      whole.set(value);
      fields2[field] = whole.toText();
    } else {
      const reps = fields2[field] === "" ? [] : fields2[field].split(d.repetition);
      const index = (repetition ?? 1) - 1;
      const edited = new Hl7Repetition(reps[index] ?? "", d, this.charset);
      edited.set(value, component, subcomponent);
      reps[index] = edited.toText();
      fields2[field] = joinParts(reps, d.repetition);
    }
    this.dirty = true;
  }
  /**
   * Writes a path such as `PID-11.5`; the segment name in the path must be this segment's.
   *
   * @param path - field path
   * @param value - the new value; see {@link Hl7Segment.setValue}
   */
  set(path, value) {
    const p = this.ownPath(path);
    this.setValue(value, p.field, p.repetition, p.component, p.subcomponent);
  }
  /** The segment's text without its terminator: as written, or rebuilt once modified. */
  toText() {
    if (this.dirty && this.fields) {
      const separator = this.delimiters.field;
      this.source = this.name === "MSH" ? "MSH" + separator + this.fields.slice(2).join(separator) : this.fields.join(separator);
      this.begin = 0;
      this.finish = this.source.length;
      this.shared = void 0;
      this.separators = void 0;
      this.separatorsComplete = false;
      return this.source;
    }
    return this.begin === 0 && this.finish === this.source.length ? this.source : this.source.slice(this.begin, this.finish);
  }
  /**
   * Puts the range of a field in `source` in `partStart` and `partEnd`; false when the segment
   * has no such field. MSH-1 is the separator right after `MSH` itself.
   */
  locateField(field) {
    if (field < 1) {
      return false;
    }
    const begin = this.begin;
    if (field === 1 && this.shift === 1) {
      partStart = begin + 3;
      partEnd = begin + 4;
      return this.finish > begin + 3;
    }
    const before = field - 1 - this.shift;
    const separators = this.findSeparators(before + 2);
    if (before >= separators.length) {
      return false;
    }
    partStart = separators[before] + 1;
    partEnd = before + 1 < separators.length ? separators[before + 1] : this.finish;
    return true;
  }
  /** Finds field separators until `count` are known or the segment ends; returns them all. */
  findSeparators(count) {
    let separators = this.separators;
    if (separators === void 0) {
      separators = [];
      this.separators = separators;
      if (this.finish - this.begin <= 3) {
        this.separatorsComplete = true;
        return separators;
      }
      separators.push(this.begin + 3);
    }
    if (this.separatorsComplete || separators.length >= count) {
      return separators;
    }
    const source = this.source;
    const separatorChar = this.delimiters.field;
    const finish = this.finish;
    let from = separators[separators.length - 1] + 1;
    while (separators.length < count) {
      const index = source.indexOf(separatorChar, from);
      if (index === -1 || index >= finish) {
        this.separatorsComplete = true;
        break;
      }
      separators.push(index);
      from = index + 1;
    }
    return separators;
  }
  splitFields() {
    if (this.fields) {
      return this.fields;
    }
    const separator = this.delimiters.field;
    const raw = this.toText();
    if (this.name === "MSH") {
      this.fields = ["MSH", separator, ...raw.slice(4).split(separator)];
    } else {
      this.fields = raw.split(separator);
    }
    return this.fields;
  }
  assertSettable(field) {
    if (field < 1 || !Number.isInteger(field) || this.isVerbatim(field)) {
      throw new RangeError(`${this.name}-${field} cannot be set`);
    }
  }
  isVerbatim(field) {
    return this.shift === 1 && (field === 1 || field === 2);
  }
  ownPath(path) {
    const parsed = readPath(path);
    if (parsed.segmentName !== this.name) {
      throw new RangeError(`Expected a path into ${this.name}, got ${path}`);
    }
    return parsed;
  }
};
var Hl7Message = class {
  /** Zero-based index of the HL7 message in the batch. */
  messageIndex;
  delimiters;
  /** All segments in order; each has `name` and one-based `index`. */
  segments;
  /**
   * The character set MSH-18 declares, as a WHATWG name (`utf-8`, `iso-8859-1`, ...);
   * `undefined` when MSH-18 is empty. `\X..\` escapes decode in it.
   */
  charset;
  /**
   * @param messageIndex - zero-based index of the HL7 message in the batch
   * @param delimiters - the delimiters from MSH-1 and MSH-2
   * @param segments - the segments, MSH first
   * @param charset - the declared character set; omit when MSH-18 is empty
   */
  constructor(messageIndex, delimiters, segments, charset) {
    this.messageIndex = messageIndex;
    this.delimiters = delimiters;
    this.segments = segments;
    this.charset = charset;
  }
  /** MSH-9 as `type^trigger` (`ADT^A01`), or just the type (`ACK`), always joined with `^`. */
  get messageType() {
    const msh = this.segments[0];
    const type = msh.getValue(9, 1, 1) ?? "";
    const trigger = msh.getValue(9, 1, 2) ?? "";
    return trigger === "" ? type : `${type}^${trigger}`;
  }
  /** MSH-12 component 1, the HL7 version (`2.5.1`). */
  get version() {
    return this.segments[0].getValue(12, 1, 1) ?? "";
  }
  /** True once anything in the message has been set. */
  get modified() {
    return this.segments.some((segment) => segment.modified);
  }
  /**
   * The first segment with a given id, or `undefined`.
   *
   * @param name - segment id, such as `PID`
   */
  segment(name) {
    const segments = this.segments;
    for (let index = 0; index < segments.length; index++) {
      if (segments[index].name === name) {
        return segments[index];
      }
    }
    return void 0;
  }
  /**
   * Every segment with a given id, in order.
   *
   * @param name - segment id, such as `NK1`
   */
  segmentsNamed(name) {
    const found = [];
    for (const segment of this.segments) {
      if (segment.name === name) {
        found.push(segment);
      }
    }
    return found;
  }
  /**
   * Reads a path from the first segment with that id; '' when there is none.
   *
   * @param path - field path, such as `PID-3[2].1`
   */
  get(path) {
    const p = readPath(path);
    const segment = this.segment(p.segmentName);
    return segment ? segment.getValue(p.field, p.repetition, p.component, p.subcomponent) : "";
  }
  /**
   * Reads a path from every segment with that id.
   *
   * @param path - field path, such as `OBX-5`
   */
  getAll(path) {
    const p = readPath(path);
    return this.segmentsNamed(p.segmentName).map(
      (segment) => segment.getValue(p.field, p.repetition, p.component, p.subcomponent)
    );
  }
  /**
   * Reads a path from every repetition of its field, in the first segment with that id: `PID-3.1`
   * gives component 1 of each repetition of PID-3. The path must not name a repetition. An
   * empty field gives `[]`.
   *
   * @param path - field path without `[r]`, such as `PID-3.1` or `PID-13`
   */
  getRepetitions(path) {
    const p = readPath(path);
    if (p.repetition !== void 0) {
      throw new RangeError(`Expected a path without a repetition, got ${path}`);
    }
    const segment = this.segment(p.segmentName);
    const count = segment ? segment.repetitionCount(p.field) : 0;
    const values = [];
    for (let repetition = 1; repetition <= count; repetition++) {
      values.push(segment.getValue(p.field, repetition, p.component, p.subcomponent));
    }
    return values;
  }
  /**
   * Reads a DTM or TS value as a date/time, from the first segment with that id; see
   * {@link Hl7Segment.getDateTime}. `PID-7` reads component 1 of PID-7.
   *
   * @param path - field path, such as `PID-7` or `OBX-14`
   */
  getDateTime(path) {
    const p = readPath(path);
    const segment = this.segment(p.segmentName);
    if (!segment) {
      return { ok: true, value: void 0 };
    }
    const result = segment.getDateTime(p.field, p.repetition, p.component);
    return result.ok ? result : { ...result, position: { messageIndex: this.messageIndex, ...result.position } };
  }
  /**
   * Writes a path in the first segment with that id. Returns false when there is none.
   *
   * @param path - field path, such as `PID-5`
   * @param value - the new value; see {@link Hl7Segment.setValue}
   */
  set(path, value) {
    const p = readPath(path);
    const segment = this.segment(p.segmentName);
    segment?.setValue(value, p.field, p.repetition, p.component, p.subcomponent);
    return segment !== void 0;
  }
};

// transforms/hl7/segment-breaks.ts
var CR2 = 13;
var LF2 = 10;
var SPACE = 32;
var TAB = 9;
function nextSegment(units, start, fieldSeparator) {
  let index = start;
  while (index < units.length) {
    const code = units.at(index);
    if (units.isHardStop(code)) {
      return { start, end: index, next: index };
    }
    if (code !== CR2 && code !== LF2) {
      index++;
      continue;
    }
    const run = terminatorRun(units, index);
    if (run.hasCr || run.end >= units.length || units.isHardStop(units.at(run.end))) {
      return { start, end: index, next: run.end };
    }
    if (startsSegment(units, run.end, fieldSeparator)) {
      return { start, end: index, next: run.end };
    }
    index = run.end;
  }
  return { start, end: units.length, next: units.length };
}
function startsSegment(units, index, fieldSeparator) {
  if (index + 3 > units.length || !isSegmentIdAt(units, index)) {
    return false;
  }
  if (index + 3 === units.length) {
    return true;
  }
  const after = units.at(index + 3);
  if (after === fieldSeparator || after === CR2 || after === LF2 || units.isHardStop(after)) {
    return true;
  }
  return isHeaderIdAt(units, index) && isDelimiterChar(String.fromCharCode(after));
}
function isSegmentIdAt(units, index) {
  if (index + 3 > units.length || !isUpper(units.at(index))) {
    return false;
  }
  return isUpperOrDigit(units.at(index + 1)) && isUpperOrDigit(units.at(index + 2));
}
function segmentIdAt(units, index) {
  if (!isSegmentIdAt(units, index)) {
    return void 0;
  }
  return String.fromCharCode(units.at(index), units.at(index + 1), units.at(index + 2));
}
function blankLineEnd(units, index) {
  let cursor = index;
  while (cursor < units.length && isBlank(units.at(cursor))) {
    cursor++;
  }
  const code = cursor < units.length ? units.at(cursor) : void 0;
  if (code !== void 0 && !isLineEnd(code) && !units.isHardStop(code)) {
    return void 0;
  }
  while (cursor < units.length && isLineEnd(units.at(cursor))) {
    cursor++;
  }
  return cursor;
}
var SegmentScanner = class {
  /** Index just past the segment's own text. */
  end = 0;
  /** Index just past the terminator. */
  next = 0;
  text;
  bytes;
  length;
  units;
  hardStops;
  /** Next position of LF and of each hard stop at or after the last scan's start; -1: none left. */
  nextLf;
  nextStops;
  /**
   * @param input - a decoded message or a whole file's bytes
   * @param hardStops - code units that always end a segment (MLLP framing bytes, for files)
   */
  constructor(input, hardStops = []) {
    if (typeof input === "string") {
      this.text = input;
      this.bytes = void 0;
      this.units = textUnits(input);
    } else {
      this.text = "";
      this.bytes = Buffer.from(input.buffer, input.byteOffset, input.byteLength);
      this.units = byteUnits(input, hardStops);
    }
    this.length = input.length;
    this.hardStops = hardStops;
    this.nextLf = this.find(LF2, 0);
    this.nextStops = hardStops.map((code) => this.find(code, 0));
  }
  /**
   * Finds the end of the segment that starts at `start`; starts must not go backwards.
   *
   * @param start - index where the segment starts
   * @param fieldSeparator - the field separator in force, as a code unit
   */
  scan(start, fieldSeparator) {
    let stop = this.length;
    if (this.nextLf !== -1 && this.nextLf < start) {
      this.nextLf = this.find(LF2, start);
    }
    if (this.nextLf !== -1) {
      stop = this.nextLf;
    }
    for (let k = 0; k < this.nextStops.length; k++) {
      let at = this.nextStops[k];
      if (at !== -1 && at < start) {
        at = this.find(this.hardStops[k], start);
        this.nextStops[k] = at;
      }
      if (at !== -1 && at < stop) {
        stop = at;
      }
    }
    const cr = this.find(CR2, start);
    if (cr !== -1 && cr < stop) {
      let after = cr + 1;
      if (after < this.length && this.codeAt(after) === LF2) {
        after++;
      }
      if (after >= this.length || !isLineEndOrBlank(this.codeAt(after))) {
        this.end = cr;
        this.next = after;
        return;
      }
    } else if (stop === this.length || stop !== this.nextLf) {
      this.end = stop;
      this.next = stop;
      return;
    }
    const span = nextSegment(this.units, start, fieldSeparator);
    this.end = span.end;
    this.next = span.next;
  }
  find(code, from) {
    if (this.bytes) {
      return this.bytes.indexOf(code, from);
    }
    if (code === CR2) {
      return this.text.indexOf("\r", from);
    }
    return this.text.indexOf(code === LF2 ? "\n" : String.fromCharCode(code), from);
  }
  codeAt(index) {
    return this.bytes ? this.bytes[index] : this.text.charCodeAt(index);
  }
};
function byteUnits(bytes2, hardStops = []) {
  return {
    length: bytes2.length,
    at: (index) => bytes2[index],
    isHardStop: (code) => hardStops.includes(code)
  };
}
function textUnits(text) {
  return {
    length: text.length,
    at: (index) => text.charCodeAt(index),
    isHardStop: () => false
  };
}
function terminatorRun(units, index) {
  let cursor = index;
  let hasCr = false;
  for (; ; ) {
    while (cursor < units.length && isLineEnd(units.at(cursor))) {
      hasCr ||= units.at(cursor) === CR2;
      cursor++;
    }
    let lookahead = cursor;
    while (lookahead < units.length && isBlank(units.at(lookahead))) {
      lookahead++;
    }
    if (lookahead === cursor) {
      return { end: cursor, hasCr };
    }
    if (lookahead >= units.length || units.isHardStop(units.at(lookahead))) {
      return { end: lookahead, hasCr };
    }
    if (!isLineEnd(units.at(lookahead))) {
      return { end: cursor, hasCr };
    }
    cursor = lookahead;
  }
}
function isHeaderIdAt(units, index) {
  const id = segmentIdAt(units, index);
  return id === "MSH" || id === "FHS" || id === "BHS";
}
function isUpper(code) {
  return code >= 65 && code <= 90;
}
function isUpperOrDigit(code) {
  return isUpper(code) || code >= 48 && code <= 57;
}
function isLineEnd(code) {
  return code === CR2 || code === LF2;
}
function isLineEndOrBlank(code) {
  return code === CR2 || code === LF2 || code === SPACE || code === TAB;
}
function isBlank(code) {
  return code === SPACE || code === TAB;
}

// transforms/hl7/parse.ts
var DEFAULT_REQUIRED_MSH_FIELDS = Object.freeze([
  "MSH-10",
  "MSH-12"
]);
var STANDARD_REQUIRED_MSH_FIELDS = Object.freeze([
  "MSH-7",
  "MSH-10",
  "MSH-11",
  "MSH-12"
]);
function parseHl7(text, messageIndex, options = {}) {
  if (text.length < 4 || !text.startsWith("MSH")) {
    return reject(messageIndex, "HL7_MISSING_MSH", { segmentIndex: 1 });
  }
  const fieldSeparator = text[3];
  if (!isDelimiterChar(fieldSeparator)) {
    return reject(messageIndex, "HL7_BAD_DELIMITERS", { ...MSH_AT, field: "MSH-1" });
  }
  const separatorCode = fieldSeparator.charCodeAt(0);
  const scanner = new SegmentScanner(text);
  scanner.scan(0, separatorCode);
  const mshEnd = scanner.end;
  const encodingEnd = text.indexOf(fieldSeparator, 4);
  const delimiters = readDelimiters(
    fieldSeparator,
    text.slice(4, encodingEnd === -1 || encodingEnd > mshEnd ? mshEnd : encodingEnd)
  );
  if (!delimiters) {
    return reject(messageIndex, "HL7_BAD_DELIMITERS", { ...MSH_AT, field: "MSH-2" });
  }
  const shared = new Hl7Text(text, delimiters);
  const escapeFinder = { text, escape: delimiters.escape, at: -2 };
  const segments = [];
  let charset;
  let start = 0;
  while (start < text.length) {
    const segmentIndex = segments.length + 1;
    if (segmentIndex > 1) {
      scanner.scan(start, separatorCode);
    }
    const end = scanner.end;
    if (!isSegmentStart(text, start, end, separatorCode)) {
      return reject(messageIndex, "HL7_BAD_SEGMENT", { segmentIndex });
    }
    const name = segmentName(text, start);
    if (segmentIndex > 1 && isEnvelopeId(name)) {
      return reject(messageIndex, "HL7_BAD_SEGMENT", { segmentIndex, segmentName: name });
    }
    const terminator = terminatorText(text, end, scanner.next);
    let segment = segmentIndex === 1 || name === "OBX" || name === "PID" || name === "PV1" ? new Hl7Segment(name, segmentIndex, shared, terminator, delimiters, charset, start, end) : void 0;
    if (segmentIndex === 1) {
      const declared = (segment.getValue(18, 1, 1) ?? "").trim();
      if (declared !== "") {
        charset = charsetFor(declared);
        if (charset === void 0) {
          return reject(messageIndex, "HL7_UNSUPPORTED_CHARSET", { ...MSH_AT, field: "MSH-18" });
        }
        segment = new Hl7Segment(name, 1, shared, terminator, delimiters, charset, start, end);
      }
    }
    if (segmentIndex === 1 || name === "OBX" || name === "PID" || name === "PV1") segments.push(segment);
    else segments.length++;
    const from = segmentIndex === 1 ? afterSecondSeparator(text, fieldSeparator, end) : start + 4;
    if (from !== -1 && from < end && hasEscapeBefore(escapeFinder, from, end)) {
      const bad = findBadEscape(text, from, delimiters, charset, end);
      if (bad !== -1) {
        const field = `${name}-${fieldNumberAt(text, start, bad, separatorCode, segmentIndex === 1)}`;
        return reject(messageIndex, "HL7_BAD_ESCAPE", { segmentIndex, segmentName: name, field });
      }
    }
    start = scanner.next;
  }
  const message = new Hl7Message(messageIndex, delimiters, segments, charset);
  const msh = segments[0];
  if (!hasValue(msh, 9)) {
    return reject(messageIndex, "HL7_MISSING_MESSAGE_TYPE", { ...MSH_AT, field: "MSH-9" });
  }
  for (const field of options.requiredMshFields ?? DEFAULT_REQUIRED_MSH_FIELDS) {
    if (!hasValue(msh, Number(field.slice(4)))) {
      return reject(messageIndex, "HL7_MISSING_FIELD", { ...MSH_AT, field });
    }
  }
  for (const segment of segments) {
    if (segment && segment.name === "OBX" && !checkObservationValue(segment)) {
      return reject(messageIndex, "HL7_BAD_DATATYPE", {
        segmentIndex: segment.index,
        segmentName: "OBX",
        field: "OBX-5"
      });
    }
  }
  return { ok: true, message };
}
var MSH_AT = Object.freeze({ segmentIndex: 1, segmentName: "MSH" });
function reject(messageIndex, code, position) {
  return { ok: false, code, position: { messageIndex, ...position } };
}
function isSegmentStart(text, start, end, separator) {
  if (end - start < 3 || end - start > 3 && text.charCodeAt(start + 3) !== separator) {
    return false;
  }
  const a = text.charCodeAt(start);
  return a >= 65 && a <= 90 && isUpperOrDigit2(text.charCodeAt(start + 1)) && isUpperOrDigit2(text.charCodeAt(start + 2));
}
function isUpperOrDigit2(code) {
  return code >= 65 && code <= 90 || code >= 48 && code <= 57;
}
function isEnvelopeId(name) {
  return name === "MSH" || name === "FHS" || name === "BHS" || name === "BTS" || name === "FTS";
}
var SEGMENT_NAMES = /* @__PURE__ */ new Map();
var SEGMENT_NAMES_LIMIT = 4096;
function segmentName(text, start) {
  const key = text.charCodeAt(start) << 16 | text.charCodeAt(start + 1) << 8 | text.charCodeAt(start + 2);
  let name = SEGMENT_NAMES.get(key);
  if (name === void 0) {
    if (SEGMENT_NAMES.size >= SEGMENT_NAMES_LIMIT) {
      SEGMENT_NAMES.clear();
    }
    name = Object.keys({ [text.slice(start, start + 3)]: 0 })[0];
    SEGMENT_NAMES.set(key, name);
  }
  return name;
}
function terminatorText(text, end, next) {
  if (next === end + 1) {
    return text.charCodeAt(end) === 13 ? "\r" : text.slice(end, next);
  }
  if (next === end + 2 && text.charCodeAt(end) === 13 && text.charCodeAt(end + 1) === 10) {
    return "\r\n";
  }
  return text.slice(end, next);
}
function afterSecondSeparator(text, separator, end) {
  const second = text.indexOf(separator, 4);
  return second === -1 || second >= end ? -1 : second + 1;
}
function hasEscapeBefore(finder, from, end) {
  if (finder.at === -2 || finder.at !== -1 && finder.at < from) {
    finder.at = finder.text.indexOf(finder.escape, from);
  }
  return finder.at !== -1 && finder.at < end;
}
function fieldNumberAt(text, start, index, separator, isMsh) {
  let count = 0;
  for (let k = start + 3; k < index; k++) {
    if (text.charCodeAt(k) === separator) {
      count++;
    }
  }
  return isMsh ? count + 1 : count;
}
function hasValue(segment, field) {
  const value = segment.getValue(field, 1, 1);
  return value !== null && value.trim() !== "";
}

// transforms/hl7/split.ts
var PIPE = 124;
var CR3 = 13;
var LF3 = 10;
var SPACE2 = 32;
var TAB2 = 9;
var NOT_AN_ID = -1;
var MSH = idCode("MSH");
var FHS = idCode("FHS");
var BHS = idCode("BHS");
var BTS = idCode("BTS");
var FTS = idCode("FTS");
var MLLP_START = 11;
var MLLP_END = 28;
function splitHl7File(bytes2, options = {}) {
  const start = hasUtf8Bom(bytes2) ? 3 : 0;
  if (isBlankFile(bytes2, start)) {
    return fail("FILE_EMPTY", {});
  }
  const units = byteUnits(bytes2, [MLLP_START, MLLP_END]);
  const scanner = new SegmentScanner(bytes2, [MLLP_START, MLLP_END]);
  const envelope = new EnvelopeTracker(options.acceptCountMismatch === true);
  const messages = [];
  let current;
  let fieldSeparator = PIPE;
  let index = start;
  while (index < bytes2.length) {
    const byte = bytes2[index];
    if (byte === MLLP_START || byte === MLLP_END) {
      current = void 0;
      index += byte === MLLP_END && bytes2[index + 1] === CR3 ? 2 : 1;
      continue;
    }
    if (byte === SPACE2 || byte === TAB2 || byte === CR3 || byte === LF3) {
      const blankEnd = blankLineEnd(units, index);
      if (blankEnd !== void 0) {
        index = blankEnd;
        continue;
      }
    }
    const id = segmentIdCode(bytes2, index);
    const separator = bytes2[index + 3];
    const isHeader = (id === MSH || id === FHS || id === BHS) && isSeparatorByte(separator);
    if (isHeader) {
      fieldSeparator = separator;
    }
    scanner.scan(index, fieldSeparator);
    const spanEnd = scanner.end;
    const spanNext = scanner.next;
    if (id === MSH && isHeader) {
      current = { start: index, end: spanNext };
      messages.push(current);
      envelope.onMessage(index);
    } else if (current && !isHeader && !isTrailer(id)) {
      current.end = spanNext;
    } else {
      const position = { byteOffset: index };
      if (id !== NOT_AN_ID && (spanEnd === index + 3 || isSeparatorByte(separator))) {
        position.segmentName = idName(id);
      }
      if (isHeader) {
        current = void 0;
        if (id === FHS) {
          envelope.onFileHeader(position);
        } else {
          envelope.onBatchHeader(position);
        }
      } else if (isTrailer(id) && (spanEnd === index + 3 || separator === fieldSeparator)) {
        current = void 0;
        const count = readCount(units, index + 4, spanEnd, fieldSeparator);
        if (id === BTS) {
          envelope.onBatchTrailer(count, { ...position, field: "BTS-1" });
        } else {
          envelope.onFileTrailer(count, { ...position, field: "FTS-1" });
        }
      } else if (current) {
        current.end = spanNext;
      } else {
        envelope.onStray(position);
      }
    }
    index = spanNext;
  }
  if (messages.length === 0) {
    return fail("HL7_MISSING_MSH", {});
  }
  if (envelope.failure) {
    return envelope.failure;
  }
  return {
    ok: true,
    messages,
    envelope: envelope.summary(),
    ...envelope.mismatch ? { countMismatch: envelope.mismatch } : {}
  };
}
var EnvelopeTracker = class {
  constructor(acceptCountMismatch) {
    this.acceptCountMismatch = acceptCountMismatch;
  }
  acceptCountMismatch;
  failure;
  mismatch;
  batchMessageCounts = [];
  openBatch = false;
  fileHeader = false;
  batchHeader = false;
  fileClosed = false;
  afterTrailer = false;
  segmentsSeen = 0;
  declaredMessages;
  declaredBatches;
  onFileHeader(position) {
    if (this.segmentsSeen++ > 0) {
      this.reject("HL7_BAD_BATCH_ENVELOPE", position);
    }
    this.fileHeader = true;
  }
  onBatchHeader(position) {
    this.segmentsSeen++;
    if (this.fileClosed) {
      this.reject("HL7_BAD_BATCH_ENVELOPE", position);
      return;
    }
    this.afterTrailer = false;
    this.batchMessageCounts.push(0);
    this.openBatch = true;
    this.batchHeader = true;
  }
  onMessage(byteOffset) {
    this.segmentsSeen++;
    if (this.fileClosed) {
      this.reject("HL7_BAD_BATCH_ENVELOPE", { byteOffset, segmentName: "MSH" });
      return;
    }
    this.afterTrailer = false;
    if (!this.openBatch) {
      this.batchMessageCounts.push(0);
      this.openBatch = true;
    }
    this.batchMessageCounts[this.batchMessageCounts.length - 1]++;
  }
  onBatchTrailer(count, position) {
    this.segmentsSeen++;
    if (this.fileClosed || !this.openBatch || count === null) {
      this.reject("HL7_BAD_BATCH_ENVELOPE", position);
      return;
    }
    this.openBatch = false;
    this.afterTrailer = true;
    if (count === void 0) {
      return;
    }
    this.declaredMessages = (this.declaredMessages ?? 0) + count;
    const found = this.batchMessageCounts[this.batchMessageCounts.length - 1];
    this.checkCount("BTS-1", count, found, position);
  }
  onFileTrailer(count, position) {
    this.segmentsSeen++;
    if (this.fileClosed || !this.fileHeader || count === null) {
      this.reject("HL7_BAD_BATCH_ENVELOPE", position);
      return;
    }
    this.openBatch = false;
    this.fileClosed = true;
    this.afterTrailer = true;
    if (count === void 0) {
      return;
    }
    this.declaredBatches = count;
    this.checkCount("FTS-1", count, this.batchMessageCounts.length, position);
  }
  onStray(position) {
    this.segmentsSeen++;
    this.reject(this.afterTrailer ? "HL7_BAD_BATCH_ENVELOPE" : "HL7_BAD_SEGMENT", position);
  }
  summary() {
    return {
      fileHeader: this.fileHeader,
      batchHeader: this.batchHeader,
      ...this.declaredMessages === void 0 ? {} : { batchCount: this.declaredMessages },
      ...this.declaredBatches === void 0 ? {} : { fileBatchCount: this.declaredBatches }
    };
  }
  checkCount(field, declared, found, position) {
    if (declared === found) {
      return;
    }
    if (!this.acceptCountMismatch) {
      this.reject("HL7_BATCH_COUNT_MISMATCH", position);
      return;
    }
    this.mismatch ??= { field, declared, found };
  }
  reject(code, position) {
    this.failure ??= fail(code, position);
  }
};
function fail(code, position) {
  return { ok: false, code, position };
}
function readCount(units, start, end, separator) {
  let text = "";
  for (let index = start; index < end && units.at(index) !== separator; index++) {
    text += String.fromCharCode(units.at(index));
  }
  text = text.trim();
  if (text === "") {
    return void 0;
  }
  return /^\d{1,9}$/.test(text) ? Number.parseInt(text, 10) : null;
}
function segmentIdCode(bytes2, index) {
  if (index + 3 > bytes2.length) {
    return NOT_AN_ID;
  }
  const a = bytes2[index];
  const b = bytes2[index + 1];
  const c = bytes2[index + 2];
  if (a < 65 || a > 90 || !isUpperOrDigit3(b) || !isUpperOrDigit3(c)) {
    return NOT_AN_ID;
  }
  return a << 16 | b << 8 | c;
}
function idCode(name) {
  return name.charCodeAt(0) << 16 | name.charCodeAt(1) << 8 | name.charCodeAt(2);
}
function idName(id) {
  return String.fromCharCode(id >> 16, id >> 8 & 255, id & 255);
}
function isUpperOrDigit3(code) {
  return code >= 65 && code <= 90 || code >= 48 && code <= 57;
}
function isTrailer(id) {
  return id === BTS || id === FTS;
}
var SEPARATOR_BYTES = Array.from(
  { length: 128 },
  (_, code) => isDelimiterChar(String.fromCharCode(code))
);
function isSeparatorByte(byte) {
  return byte !== void 0 && byte < 128 && SEPARATOR_BYTES[byte];
}
function hasUtf8Bom(bytes2) {
  return bytes2.length >= 3 && bytes2[0] === 239 && bytes2[1] === 187 && bytes2[2] === 191;
}
function isBlankFile(bytes2, start) {
  for (let index = start; index < bytes2.length; index++) {
    const byte = bytes2[index];
    if (![32, 9, 13, 10, 11, 28].includes(byte)) {
      return false;
    }
  }
  return true;
}

// .prof-parse.ts
var { bytes } = generateHl7Corpus({ seed: 20261203, approxBytes: 8e6 });
var split = splitHl7File(bytes);
if (!split.ok) throw 1;
var texts = split.messages.map((r, i) => {
  const d = decodeHl7Bytes(bytes.subarray(r.start, r.end), i);
  if (!d.ok) throw 1;
  return d.text;
});
var mode = process.argv[2] ?? "parse";
var sum = 0;
var best = [];
for (let round = 0; round < 8; round++) {
  const t = process.cpuUsage();
  for (let k = 0; k < 3; k++) {
    if (mode === "all") {
      const sp = splitHl7File(bytes);
      if (!sp.ok) throw 1;
      for (let i = 0; i < sp.messages.length; i++) {
        const r = sp.messages[i];
        const d = decodeHl7Bytes(bytes.subarray(r.start, r.end), i);
        if (!d.ok) throw 1;
        const p = parseHl7(d.text, i);
        if (!p.ok) throw 1;
        const m = p.message;
        for (const path of ["MSH-9.1", "MSH-9.2", "MSH-10", "PID-3[1].1", "PID-5.1", "PID-7", "PV1-3.4"]) sum += (m.get(path) ?? "").length;
        for (const o of m.segments.filter(Boolean).filter((s) => s.name === "OBX")) if (0) for (const o2 of m.segmentsNamed("OBX")) sum += (o2.getValue(5, 1, 1) ?? "").length;
      }
      continue;
    }
    for (let i = 0; i < texts.length; i++) {
      const p = parseHl7(texts[i], i);
      if (!p.ok) throw 1;
      if (mode === "read") {
        const m = p.message;
        for (const path of ["MSH-9.1", "MSH-9.2", "MSH-10", "PID-3[1].1", "PID-5.1", "PID-7", "PV1-3.4"]) sum += (m.get(path) ?? "").length;
        for (const o of m.segments.filter(Boolean).filter((s) => s.name === "OBX")) if (0) for (const o2 of m.segmentsNamed("OBX")) sum += (o2.getValue(5, 1, 1) ?? "").length;
      }
    }
  }
  const u = process.cpuUsage(t);
  best.push(bytes.length * 3 / 1e6 / ((u.user + u.system) / 1e6));
}
best.sort((a, b) => b - a);
console.log(mode, "best", best[0].toFixed(1), "median", best[4].toFixed(1), "MB/s cpu");
