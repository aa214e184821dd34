// notary-js library, part 2 of 3: the rarely used features --
// console.table/count/time/dir/assert/trace, TextEncoder/TextDecoder,
// Buffer (a subset), crypto.getRandomValues/randomUUID, structuredClone and
// require() of a few cheap built-in modules (util, events, assert, timers,
// timers/promises, buffer, crypto).
//
// Compiled to bytecode like lib.js and loaded by the runner on first use.
// The script evaluates to a function taking `N` (the C helpers) and `core`
// (helpers exported by lib.js) and returning the exports object.
(function (N, core) {
  'use strict';

  const {
    inspect, format, formatWithOptions, formatWithOptionsInternal, getStringWidth, customInspectSymbol,
    process_emitWarning, hasOwn, propertyIsEnumerable, cls, isNativeError, isError, isDate, isRegExp, isMap,
    isSet, isWeakMap, isWeakSet, isPromise, isArrayBuffer, isSharedArrayBuffer, isAnyArrayBuffer, isDataView,
    isTypedArray, isArgumentsObject, isMapIterator, isSetIterator, isNumberObject, isStringObject,
    isBooleanObject, isBigIntObject, isSymbolObject, isBoxedPrimitive, isAsyncFunction, isGeneratorFunction,
    DatePrototypeGetTime, MapPrototypeEntries, SetPrototypeValues, typedArrayTag, typedArrayLength,
  } = core;
  const ObjectPrototype = Object.prototype;
  const ObjectGetOwnPropertySymbols = Object.getOwnPropertySymbols;
  const ObjectGetPrototypeOf = Object.getPrototypeOf;
  const ObjectKeys = Object.keys;
  const ObjectIs = Object.is;
  const ArrayIsArray = Array.isArray;
  const FunctionPrototypeToString = Function.prototype.toString;
  const SymbolPrototypeToString = Symbol.prototype.toString;
  const NumberPrototypeValueOf = Number.prototype.valueOf;
  const StringPrototypeValueOf = String.prototype.valueOf;
  const BooleanPrototypeValueOf = Boolean.prototype.valueOf;
  const BigIntPrototypeValueOf = BigInt.prototype.valueOf;

  // ---- console extras ---------------------------------------------------
  let counts, timers; // Maps, created on first use

  function consoleLine(fd, args) {
    N.writeLine(fd, formatWithOptionsInternal(undefined, args));
  }

  function console_dir(object, options) {
    N.writeLine(1, inspect(object, { customInspect: false, ...options }));
  }

  function console_assert(expression, ...args) {
    if (!expression) {
      if (args.length && typeof args[0] === 'string') {
        args[0] = `Assertion failed: ${args[0]}`;
      } else {
        args.unshift('Assertion failed');
      }
      consoleLine(2, args);
    }
  }

  function console_count(label = 'default') {
    label = `${label}`;
    counts ||= new Map();
    let count = counts.get(label);
    if (count === undefined) count = 1;
    else count++;
    counts.set(label, count);
    consoleLine(1, [`${label}: ${count}`]);
  }

  function console_countReset(label = 'default') {
    label = `${label}`;
    if (!counts || !counts.has(label)) {
      process_emitWarning(`Count for '${label}' does not exist`);
      return;
    }
    counts.delete(label);
  }

  function formatTime(ms) {
    let hours = 0, minutes = 0, seconds = 0;
    if (ms >= 1000) {
      if (ms >= 60000) {
        if (ms >= 3600000) {
          hours = Math.floor(ms / 3600000);
          ms = ms % 3600000;
        }
        minutes = Math.floor(ms / 60000);
        ms = ms % 60000;
      }
      seconds = ms / 1000;
    }
    if (hours !== 0 || minutes !== 0) {
      ({ 0: seconds, 1: ms } = seconds.toFixed(3).split('.'));
      const res = hours !== 0 ? `${hours}:${pad(minutes)}` : minutes;
      return `${res}:${pad(seconds)}.${ms} (${hours !== 0 ? 'h:m' : ''}m:ss.mmm)`;
    }
    if (seconds !== 0) return `${seconds.toFixed(3)}s`;
    return `${Number(ms.toFixed(3))}ms`;
  }
  const pad = (value) => `${value}`.padStart(2, '0');

  function console_time(label = 'default') {
    label = `${label}`;
    timers ||= new Map();
    if (timers.has(label)) {
      process_emitWarning(`Label '${label}' already exists for console.time()`);
      return;
    }
    timers.set(label, performance.now());
  }

  function timeLogImpl(name, label, data) {
    const time = timers && timers.get(label);
    if (time === undefined) {
      process_emitWarning(`No such label '${label}' for console.${name}()`);
      return false;
    }
    const duration = performance.now() - time;
    if (data === undefined) consoleLine(1, [`${label}: ${formatTime(duration)}`]);
    else consoleLine(1, [`${label}: ${formatTime(duration)}`, ...data]);
    return true;
  }

  function console_timeEnd(label = 'default') {
    label = `${label}`;
    if (timeLogImpl('timeEnd', label)) timers.delete(label);
  }

  function console_timeLog(label = 'default', ...data) {
    timeLogImpl('timeLog', `${label}`, data);
  }

  function console_trace(...args) {
    const err = { name: 'Trace', message: formatWithOptionsInternal(undefined, args) };
    Error.captureStackTrace(err, console_trace);
    const stack = typeof err.stack === 'string' ? err.stack.replace(/\n$/, '') : '';
    N.writeLine(2, `Trace${err.message ? ': ' + err.message : ''}${stack ? '\n' + stack : ''}`);
  }

  // console.table: node's renderer (box-drawing characters).
  const tableChars = {
    middleMiddle: '─', rowMiddle: '┼', topRight: '┐', topLeft: '┌', leftMiddle: '├', topMiddle: '┬',
    bottomRight: '┘', bottomLeft: '└', bottomMiddle: '┴', rightMiddle: '┤', left: '│ ', right: ' │',
    middle: ' │ ',
  };
  function renderRow(row, columnWidths) {
    let out = tableChars.left;
    for (let i = 0; i < row.length; i++) {
      const cell = row[i];
      const len = getStringWidth(cell);
      const needed = columnWidths[i] - len;
      out += cell + ' '.repeat(needed);
      if (i !== row.length - 1) out += tableChars.middle;
    }
    out += tableChars.right;
    return out;
  }
  function renderTable(head, columns) {
    const rows = [];
    const columnWidths = head.map((h) => getStringWidth(h));
    const longestColumn = Math.max(...columns.map((a) => a.length));
    for (let i = 0; i < head.length; i++) {
      const column = columns[i];
      for (let j = 0; j < longestColumn; j++) {
        if (rows[j] === undefined) rows[j] = [];
        const value = rows[j][i] = hasOwn(column, j) ? column[j] : '';
        const width = columnWidths[i] || 0;
        const counted = getStringWidth(value);
        columnWidths[i] = Math.max(width, counted);
      }
    }
    const divider = columnWidths.map((i) => tableChars.middleMiddle.repeat(i + 2));
    let result = `${tableChars.topLeft}${divider.join(tableChars.topMiddle)}${tableChars.topRight}\n` +
      `${renderRow(head, columnWidths)}\n` +
      `${tableChars.leftMiddle}${divider.join(tableChars.rowMiddle)}${tableChars.rightMiddle}\n`;
    for (const row of rows) result += `${renderRow(row, columnWidths)}\n`;
    result += `${tableChars.bottomLeft}${divider.join(tableChars.bottomMiddle)}${tableChars.bottomRight}`;
    return result;
  }
  function console_table(tabularData, properties) {
    if (tabularData === null || typeof tabularData !== 'object') return consoleLine(1, [tabularData]);
    const final = (k, v) => N.writeLine(1, renderTable(k, v));
    const _inspect = (v) => {
      const depth = v !== null && typeof v === 'object' && !isArray(v) && ObjectKeys(v).length > 2 ? -1 : 0;
      const opt = { depth, maxArrayLength: 3, breakLength: Infinity };
      return inspect(v, opt);
    };
    const getIndexArray = (length) => Array.from({ length }, (_, i) => _inspect(i));
    const isArray = (v) => ArrayIsArray(v) || isTypedArray(v);
    const mapIter = isMapIterator(tabularData);
    let isKeyValue = false;
    let i = 0;
    if (mapIter) {
      tabularData = [...tabularData].flat();
      isKeyValue = true;
    }
    if (isKeyValue || isMap(tabularData)) {
      const keys = [];
      const values = [];
      let length = 0;
      for (const { 0: k, 1: v } of (isKeyValue ? pairs(tabularData) : tabularData)) {
        keys.push(_inspect(k));
        values.push(_inspect(v));
        length++;
      }
      return final(['(iteration index)', 'Key', 'Values'], [getIndexArray(length), keys, values]);
    }
    const setIter = isSetIterator(tabularData);
    if (setIter) tabularData = [...tabularData];
    const setlike = setIter || mapIter || isSet(tabularData);
    if (setlike) {
      const values = [];
      let length = 0;
      for (const v of tabularData) {
        values.push(_inspect(v));
        length++;
      }
      return final(['(iteration index)', 'Values'], [getIndexArray(length), values]);
    }
    const map = { __proto__: null };
    let hasPrimitives = false;
    const valuesKeyArray = [];
    const indexKeyArray = ObjectKeys(tabularData);
    for (; i < indexKeyArray.length; i++) {
      const item = tabularData[indexKeyArray[i]];
      const primitive = item === null || (typeof item !== 'function' && typeof item !== 'object');
      if (properties === undefined && primitive) {
        hasPrimitives = true;
        valuesKeyArray[i] = _inspect(item);
      } else {
        const keys = properties || ObjectKeys(item);
        for (const key of keys) {
          if (map[key] === undefined) map[key] = [];
          if ((primitive && properties) || !hasOwn(item, key)) map[key][i] = '';
          else map[key][i] = _inspect(item[key]);
        }
      }
    }
    const keys = ObjectKeys(map);
    const values = Object.values(map);
    if (hasPrimitives) {
      keys.push('Values');
      values.push(valuesKeyArray);
    }
    keys.unshift('(index)');
    values.unshift(indexKeyArray);
    return final(keys, values);
  }
  function* pairs(arr) {
    for (let i = 0; i < arr.length; i += 2) yield [arr[i], arr[i + 1]];
  }

  // ---- TextEncoder / TextDecoder ---------------------------------------
  function utf8Encode(str) {
    str = String(str);
    const out = new Uint8Array(str.length * 3);
    let p = 0;
    for (let i = 0; i < str.length; i++) {
      let c = str.charCodeAt(i);
      if (c < 0x80) {
        out[p++] = c;
        continue;
      }
      if (c >= 0xd800 && c <= 0xdfff) {
        const c2 = i + 1 < str.length ? str.charCodeAt(i + 1) : 0;
        if (c <= 0xdbff && c2 >= 0xdc00 && c2 <= 0xdfff) {
          c = 0x10000 + ((c - 0xd800) << 10) + (c2 - 0xdc00);
          i++;
        } else {
          c = 0xfffd;
        }
      }
      if (c < 0x800) {
        out[p++] = 0xc0 | (c >> 6);
        out[p++] = 0x80 | (c & 63);
      } else if (c < 0x10000) {
        out[p++] = 0xe0 | (c >> 12);
        out[p++] = 0x80 | ((c >> 6) & 63);
        out[p++] = 0x80 | (c & 63);
      } else {
        out[p++] = 0xf0 | (c >> 18);
        out[p++] = 0x80 | ((c >> 12) & 63);
        out[p++] = 0x80 | ((c >> 6) & 63);
        out[p++] = 0x80 | (c & 63);
      }
    }
    return out.slice(0, p);
  }

  // WHATWG UTF-8 decoder (replacement mode or fatal).
  function utf8Decode(bytes, fatal, state) {
    let out = '';
    let chunk = [];
    let i = 0;
    const n = bytes.length;
    const flush = () => {
      out += String.fromCharCode.apply(null, chunk);
      chunk = [];
    };
    const bad = () => {
      if (fatal) {
        const e = new TypeError('The encoded data was not valid for encoding utf-8');
        e.code = 'ERR_ENCODING_INVALID_ENCODED_DATA';
        throw e;
      }
      chunk.push(0xfffd);
    };
    while (i < n) {
      const b = bytes[i];
      if (b < 0x80) {
        chunk.push(b);
        i++;
      } else {
        let need, cp, lower = 0x80, upper = 0xbf;
        if (b >= 0xc2 && b <= 0xdf) {
          need = 1;
          cp = b & 0x1f;
        } else if (b >= 0xe0 && b <= 0xef) {
          if (b === 0xe0) lower = 0xa0;
          if (b === 0xed) upper = 0x9f;
          need = 2;
          cp = b & 0xf;
        } else if (b >= 0xf0 && b <= 0xf4) {
          if (b === 0xf0) lower = 0x90;
          if (b === 0xf4) upper = 0x8f;
          need = 3;
          cp = b & 0x7;
        } else {
          bad();
          i++;
          continue;
        }
        let j = 1;
        for (; j <= need; j++) {
          if (i + j >= n) break;
          const c = bytes[i + j];
          if (c < lower || c > upper) break;
          lower = 0x80;
          upper = 0xbf;
          cp = (cp << 6) | (c & 0x3f);
        }
        if (j <= need) {
          if (i + j >= n && state) {
            // incomplete sequence at the end of a streaming chunk
            state.pending = Array.from(bytes.subarray(i));
            break;
          }
          bad();
          i += j;
          continue;
        }
        i += need + 1;
        if (cp >= 0x10000) {
          cp -= 0x10000;
          chunk.push(0xd800 + (cp >> 10), 0xdc00 + (cp & 0x3ff));
        } else {
          chunk.push(cp);
        }
      }
      if (chunk.length > 8192) flush();
    }
    flush();
    return out;
  }

  function toBytes(input) {
    if (input === undefined) return new Uint8Array(0);
    if (isAnyArrayBuffer(input)) return new Uint8Array(input);
    if (ArrayBuffer.isView(input)) return new Uint8Array(input.buffer, input.byteOffset, input.byteLength);
    const e = new TypeError('The "input" argument must be an instance of ArrayBuffer or ArrayBufferView.');
    e.code = 'ERR_INVALID_ARG_TYPE';
    throw e;
  }

  class TextEncoder {
    get encoding() {
      return 'utf-8';
    }
    encode(input = '') {
      return utf8Encode(input);
    }
    encodeInto(src, dest) {
      const bytes = utf8Encode(src);
      // only whole characters are written
      let written = Math.min(bytes.length, dest.length);
      while (written > 0 && written < bytes.length && (bytes[written] & 0xc0) === 0x80) written--;
      dest.set(bytes.subarray(0, written));
      const read = utf8Decode(bytes.subarray(0, written), false).length;
      return { read, written };
    }
    [customInspectSymbol](depth, opts) {
      return `TextEncoder { encoding: 'utf-8' }`;
    }
  }
  Object.defineProperty(TextEncoder.prototype, Symbol.toStringTag, { value: 'TextEncoder', configurable: true });

  const latin1Labels = new Set(['latin1', 'iso-8859-1', 'l1', 'ascii', 'us-ascii', 'windows-1252', 'cp1252']);
  class TextDecoder {
    #encoding;
    #fatal;
    #ignoreBOM;
    #pending = null;
    #bomSeen = false;
    constructor(encoding = 'utf-8', options = {}) {
      let enc = String(encoding).trim().toLowerCase();
      if (enc === 'utf8' || enc === 'unicode-1-1-utf-8') enc = 'utf-8';
      if (latin1Labels.has(enc)) enc = 'windows-1252';
      else if (enc === 'utf-16' || enc === 'utf-16le') enc = 'utf-16le';
      if (enc !== 'utf-8' && enc !== 'windows-1252' && enc !== 'utf-16le') {
        const e = new RangeError(`The "${encoding}" encoding is not supported`);
        e.code = 'ERR_ENCODING_NOT_SUPPORTED';
        throw e;
      }
      this.#encoding = enc;
      this.#fatal = Boolean(options && options.fatal);
      this.#ignoreBOM = Boolean(options && options.ignoreBOM);
    }
    get encoding() {
      return this.#encoding;
    }
    get fatal() {
      return this.#fatal;
    }
    get ignoreBOM() {
      return this.#ignoreBOM;
    }
    decode(input, options = {}) {
      let bytes = toBytes(input);
      const stream = Boolean(options && options.stream);
      if (this.#encoding === 'windows-1252') {
        let s = '';
        for (let i = 0; i < bytes.length; i++) s += String.fromCharCode(bytes[i]);
        return s;
      }
      if (this.#encoding === 'utf-16le') {
        let s = '';
        for (let i = 0; i + 1 < bytes.length; i += 2) s += String.fromCharCode(bytes[i] | (bytes[i + 1] << 8));
        if (!this.#ignoreBOM && s.charCodeAt(0) === 0xfeff) s = s.slice(1);
        return s;
      }
      if (this.#pending) {
        const merged = new Uint8Array(this.#pending.length + bytes.length);
        merged.set(this.#pending);
        merged.set(bytes, this.#pending.length);
        bytes = merged;
        this.#pending = null;
      }
      const state = stream ? { pending: null } : null;
      let s = utf8Decode(bytes, this.#fatal, state);
      if (state && state.pending) this.#pending = state.pending;
      if (!this.#ignoreBOM && !this.#bomSeen && s.length > 0) {
        if (s.charCodeAt(0) === 0xfeff) s = s.slice(1);
        this.#bomSeen = true;
      }
      if (!stream) this.#bomSeen = false;
      return s;
    }
  }
  Object.defineProperty(TextDecoder.prototype, Symbol.toStringTag, { value: 'TextDecoder', configurable: true });

  // ---- structuredClone (plain data, Map, Set, Date, RegExp, typed arrays,
  //      ArrayBuffer, Error, boxed primitives; cycles preserved) ----------
  function dataCloneError(msg) {
    const e = typeof DOMException === 'function' ? new DOMException(msg, 'DataCloneError') : new Error(msg);
    return e;
  }
  function structuredClone(value, options) {
    if (arguments.length === 0) {
      const e = new TypeError('The "value" argument must be specified');
      e.code = 'ERR_MISSING_ARGS';
      throw e;
    }
    const memory = new Map();
    const clone = (v) => {
      if (typeof v === 'symbol') throw dataCloneError(`${SymbolPrototypeToString.call(v)} could not be cloned.`);
      if (typeof v === 'function') throw dataCloneError(`${FunctionPrototypeToString.call(v)} could not be cloned.`);
      if (v === null || typeof v !== 'object') return v;
      if (memory.has(v)) return memory.get(v);
      let out;
      if (ArrayIsArray(v)) {
        out = new Array(v.length);
        memory.set(v, out);
        for (const k of ObjectKeys(v)) out[k] = clone(v[k]);
        return out;
      }
      if (isDate(v)) out = new Date(DatePrototypeGetTime.call(v));
      else if (isRegExp(v)) out = new RegExp(v.source, v.flags);
      else if (isMap(v)) {
        out = new Map();
        memory.set(v, out);
        for (const [k, val] of MapPrototypeEntries.call(v)) out.set(clone(k), clone(val));
        return out;
      } else if (isSet(v)) {
        out = new Set();
        memory.set(v, out);
        for (const val of SetPrototypeValues.call(v)) out.add(clone(val));
        return out;
      } else if (isArrayBuffer(v)) out = v.slice(0);
      else if (isTypedArray(v)) {
        const buf = clone(v.buffer);
        out = new globalThis[typedArrayTag.call(v)](buf, v.byteOffset, typedArrayLength.call(v));
      } else if (isDataView(v)) out = new DataView(clone(v.buffer), v.byteOffset, v.byteLength);
      else if (isNumberObject(v)) out = Object(NumberPrototypeValueOf.call(v));
      else if (isStringObject(v)) out = Object(StringPrototypeValueOf.call(v));
      else if (isBooleanObject(v)) out = Object(BooleanPrototypeValueOf.call(v));
      else if (isBigIntObject(v)) out = Object(BigIntPrototypeValueOf.call(v));
      else if (isError(v)) {
        const ctors = { EvalError, RangeError, ReferenceError, SyntaxError, TypeError, URIError };
        const C = ctors[v.name] || Error;
        out = new C(v.message);
        memory.set(v, out);
        if (typeof v.stack === 'string') Object.defineProperty(out, 'stack', { value: v.stack, writable: true, configurable: true });
        if ('cause' in v) out.cause = clone(v.cause);
        return out;
      } else if (isPromise(v) || isWeakMap(v) || isWeakSet(v) || isSymbolObject(v)) {
        throw dataCloneError(`${Object.prototype.toString.call(v).slice(8, -1)} object could not be cloned.`);
      } else {
        out = {};
        memory.set(v, out);
        for (const k of ObjectKeys(v)) out[k] = clone(v[k]);
        return out;
      }
      memory.set(v, out);
      return out;
    };
    return clone(value);
  }

  // ---- crypto (random only; no subtle) ---------------------------------
  const integerTypedArrays = new Set(['Int8Array', 'Uint8Array', 'Uint8ClampedArray', 'Int16Array', 'Uint16Array',
    'Int32Array', 'Uint32Array', 'BigInt64Array', 'BigUint64Array']);
  function getRandomValues(array) {
    if (!isTypedArray(array) || !integerTypedArrays.has(cls(array))) {
      const e = typeof DOMException === 'function' ?
        new DOMException('The data argument must be an integer-type TypedArray', 'TypeMismatchError') :
        new TypeError('The data argument must be an integer-type TypedArray');
      throw e;
    }
    if (array.byteLength > 65536) {
      throw typeof DOMException === 'function' ?
        new DOMException(`The ArrayBufferView's byte length (${array.byteLength}) exceeds the number of bytes ` +
          'of entropy available via this API (65536)', 'QuotaExceededError') :
        new RangeError('too many bytes');
    }
    return N.randomFill(array);
  }
  function randomUUID() {
    const b = N.randomFill(new Uint8Array(16));
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h = '';
    for (let i = 0; i < 16; i++) {
      h += (b[i] < 16 ? '0' : '') + b[i].toString(16);
      if (i === 3 || i === 5 || i === 7 || i === 9) h += '-';
    }
    return h;
  }
  class Crypto {}
  Object.defineProperty(Crypto.prototype, Symbol.toStringTag, { value: 'Crypto', configurable: true });
  const crypto = Object.create(Crypto.prototype);
  Object.defineProperties(crypto, {
    getRandomValues: { value: getRandomValues, enumerable: true, writable: true, configurable: true },
    randomUUID: { value: randomUUID, enumerable: true, writable: true, configurable: true },
  });

  // ---- Buffer (a small subset of node's Buffer on top of Uint8Array) ----
  const b64chars = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
  const b64lookup = new Int16Array(256).fill(-1);
  for (let i = 0; i < 64; i++) b64lookup[b64chars.charCodeAt(i)] = i;
  b64lookup['-'.charCodeAt(0)] = 62;
  b64lookup['_'.charCodeAt(0)] = 63;
  function normEncoding(enc) {
    if (enc === undefined || enc === null) return 'utf8';
    const e = String(enc).toLowerCase();
    switch (e) {
      case 'utf8': case 'utf-8': return 'utf8';
      case 'hex': return 'hex';
      case 'base64': return 'base64';
      case 'base64url': return 'base64url';
      case 'latin1': case 'binary': return 'latin1';
      case 'ascii': return 'ascii';
      case 'ucs2': case 'ucs-2': case 'utf16le': case 'utf-16le': return 'utf16le';
      default: {
        const err = new TypeError(`Unknown encoding: ${enc}`);
        err.code = 'ERR_UNKNOWN_ENCODING';
        throw err;
      }
    }
  }
  function bytesFromString(str, enc) {
    switch (normEncoding(enc)) {
      case 'utf8': return utf8Encode(str);
      case 'hex': {
        const n = str.length >>> 1;
        const out = new Uint8Array(n);
        let i = 0;
        for (; i < n; i++) {
          const v = parseInt(str.substr(i * 2, 2), 16);
          if (Number.isNaN(v) || !/^[0-9a-fA-F]{2}$/.test(str.substr(i * 2, 2))) break;
          out[i] = v;
        }
        return out.slice(0, i);
      }
      case 'base64': case 'base64url': {
        const out = new Uint8Array(Math.ceil(str.length * 3 / 4));
        let bits = 0, acc = 0, p = 0;
        for (let i = 0; i < str.length; i++) {
          const c = str.charCodeAt(i);
          if (c === 61) break; // '='
          const v = c < 256 ? b64lookup[c] : -1;
          if (v < 0) continue;
          acc = (acc << 6) | v;
          bits += 6;
          if (bits >= 8) {
            bits -= 8;
            out[p++] = (acc >> bits) & 0xff;
          }
        }
        return out.slice(0, p);
      }
      case 'latin1': case 'ascii': {
        const out = new Uint8Array(str.length);
        for (let i = 0; i < str.length; i++) out[i] = str.charCodeAt(i) & 0xff;
        return out;
      }
      case 'utf16le': {
        const out = new Uint8Array(str.length * 2);
        for (let i = 0; i < str.length; i++) {
          const c = str.charCodeAt(i);
          out[i * 2] = c & 0xff;
          out[i * 2 + 1] = c >> 8;
        }
        return out;
      }
    }
  }
  function bytesToString(bytes, enc) {
    switch (normEncoding(enc)) {
      case 'utf8': return utf8Decode(bytes, false);
      case 'hex': {
        let s = '';
        for (let i = 0; i < bytes.length; i++) s += (bytes[i] < 16 ? '0' : '') + bytes[i].toString(16);
        return s;
      }
      case 'base64': case 'base64url': {
        const url = normEncoding(enc) === 'base64url';
        const chars = url ? b64chars.slice(0, 62) + '-_' : b64chars;
        let s = '';
        let i = 0;
        for (; i + 2 < bytes.length; i += 3) {
          const v = (bytes[i] << 16) | (bytes[i + 1] << 8) | bytes[i + 2];
          s += chars[v >> 18] + chars[(v >> 12) & 63] + chars[(v >> 6) & 63] + chars[v & 63];
        }
        if (i < bytes.length) {
          const v = (bytes[i] << 16) | ((i + 1 < bytes.length ? bytes[i + 1] : 0) << 8);
          s += chars[v >> 18] + chars[(v >> 12) & 63];
          if (i + 1 < bytes.length) s += chars[(v >> 6) & 63];
          else if (!url) s += '=';
          if (!url) s += '=';
        }
        return s;
      }
      case 'latin1': {
        let s = '';
        for (let i = 0; i < bytes.length; i++) s += String.fromCharCode(bytes[i]);
        return s;
      }
      case 'ascii': {
        let s = '';
        for (let i = 0; i < bytes.length; i++) s += String.fromCharCode(bytes[i] & 0x7f);
        return s;
      }
      case 'utf16le': {
        let s = '';
        for (let i = 0; i + 1 < bytes.length; i += 2) s += String.fromCharCode(bytes[i] | (bytes[i + 1] << 8));
        return s;
      }
    }
  }

  class Buffer extends Uint8Array {
    static from(value, encodingOrOffset, length) {
      if (typeof value === 'string') return toBuffer(bytesFromString(value, encodingOrOffset));
      if (isAnyArrayBuffer(value)) {
        const off = encodingOrOffset === undefined ? 0 : +encodingOrOffset;
        const len = length === undefined ? value.byteLength - off : +length;
        return new Buffer(value, off, len);
      }
      if (ArrayBuffer.isView(value)) {
        const src = new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
        if (isTypedArray(value) && !(value instanceof Uint8Array)) return Buffer.from(Array.from(value));
        return toBuffer(src.slice());
      }
      if (value && typeof value === 'object') {
        if (value.type === 'Buffer' && ArrayIsArray(value.data)) return toBuffer(Uint8Array.from(value.data));
        if (typeof value.length === 'number' || ArrayIsArray(value)) return toBuffer(Uint8Array.from(value));
        if (typeof value[Symbol.toPrimitive] === 'function' || typeof value.valueOf === 'function') {
          const prim = typeof value[Symbol.toPrimitive] === 'function' ? value[Symbol.toPrimitive]('string') : value.valueOf();
          if (prim !== value && (typeof prim === 'string' || typeof prim === 'object')) {
            return Buffer.from(prim, encodingOrOffset, length);
          }
        }
      }
      const e = new TypeError('The first argument must be of type string or an instance of Buffer, ArrayBuffer, ' +
        `or Array or an Array-like Object. Received ${inspect(value)}`);
      e.code = 'ERR_INVALID_ARG_TYPE';
      throw e;
    }
    static alloc(size, fill, encoding) {
      const b = new Buffer(size);
      if (fill !== undefined && fill !== 0) b.fill(fill, 0, b.length, encoding);
      return b;
    }
    static allocUnsafe(size) {
      return new Buffer(size);
    }
    static allocUnsafeSlow(size) {
      return new Buffer(size);
    }
    static isBuffer(b) {
      return b instanceof Buffer;
    }
    static isEncoding(enc) {
      try {
        normEncoding(enc);
        return typeof enc === 'string';
      } catch {
        return false;
      }
    }
    static byteLength(s, enc) {
      if (typeof s !== 'string') return s.byteLength;
      return bytesFromString(s, enc).length;
    }
    static concat(list, totalLength) {
      if (totalLength === undefined) totalLength = list.reduce((a, b) => a + b.length, 0);
      const out = Buffer.alloc(totalLength);
      let p = 0;
      for (const b of list) {
        if (p >= totalLength) break;
        const n = Math.min(b.length, totalLength - p);
        out.set(n === b.length ? b : b.subarray(0, n), p);
        p += n;
      }
      return out;
    }
    static compare(a, b) {
      return a.compare(b);
    }
    toString(encoding, start = 0, end = this.length) {
      start = Math.max(0, start | 0);
      end = Math.min(this.length, end === undefined ? this.length : end | 0);
      if (end <= start) return '';
      return bytesToString(new Uint8Array(this.buffer, this.byteOffset + start, end - start), encoding);
    }
    toJSON() {
      return { type: 'Buffer', data: Array.from(this) };
    }
    equals(other) {
      return this.compare(other) === 0;
    }
    compare(other) {
      const n = Math.min(this.length, other.length);
      for (let i = 0; i < n; i++) {
        if (this[i] !== other[i]) return this[i] < other[i] ? -1 : 1;
      }
      return this.length === other.length ? 0 : this.length < other.length ? -1 : 1;
    }
    write(string, offset = 0, length, encoding) {
      if (typeof offset === 'string') {
        encoding = offset;
        offset = 0;
      } else if (typeof length === 'string') {
        encoding = length;
        length = undefined;
      }
      const bytes = bytesFromString(string, encoding);
      const n = Math.min(bytes.length, this.length - offset, length === undefined ? Infinity : length);
      this.set(bytes.subarray(0, n), offset);
      return n;
    }
    fill(value, offset = 0, end = this.length, encoding) {
      if (typeof offset === 'string') {
        encoding = offset;
        offset = 0;
        end = this.length;
      }
      if (typeof value === 'string') {
        const bytes = bytesFromString(value, encoding);
        if (bytes.length === 0) return super.fill(0, offset, end);
        for (let i = offset, j = 0; i < end; i++, j = (j + 1) % bytes.length) this[i] = bytes[j];
        return this;
      }
      return super.fill(value, offset, end);
    }
    slice(start, end) {
      return this.subarray(start, end);
    }
    subarray(start, end) {
      const u = Uint8Array.prototype.subarray.call(this, start, end);
      return new Buffer(u.buffer, u.byteOffset, u.length);
    }
    indexOf(value, byteOffset = 0, encoding) {
      if (typeof value === 'number') return super.indexOf(value, byteOffset);
      const needle = typeof value === 'string' ? bytesFromString(value, encoding) : value;
      outer: for (let i = byteOffset < 0 ? Math.max(0, this.length + byteOffset) : byteOffset; i <= this.length - needle.length; i++) {
        for (let j = 0; j < needle.length; j++) if (this[i + j] !== needle[j]) continue outer;
        return i;
      }
      return -1;
    }
    includes(value, byteOffset, encoding) {
      return this.indexOf(value, byteOffset, encoding) !== -1;
    }
    readUInt8(o = 0) { return this[o]; }
    readInt8(o = 0) { return (this[o] << 24) >> 24; }
    readUInt16LE(o = 0) { return this[o] | (this[o + 1] << 8); }
    readUInt16BE(o = 0) { return (this[o] << 8) | this[o + 1]; }
    readUInt32LE(o = 0) { return (this[o] | (this[o + 1] << 8) | (this[o + 2] << 16)) + this[o + 3] * 0x1000000; }
    readUInt32BE(o = 0) { return this[o] * 0x1000000 + ((this[o + 1] << 16) | (this[o + 2] << 8) | this[o + 3]); }
    readInt32LE(o = 0) { return this[o] | (this[o + 1] << 8) | (this[o + 2] << 16) | (this[o + 3] << 24); }
    readInt32BE(o = 0) { return (this[o] << 24) | (this[o + 1] << 16) | (this[o + 2] << 8) | this[o + 3]; }
    writeUInt8(v, o = 0) { this[o] = v; return o + 1; }
    writeUInt16LE(v, o = 0) { this[o] = v; this[o + 1] = v >>> 8; return o + 2; }
    writeUInt16BE(v, o = 0) { this[o] = v >>> 8; this[o + 1] = v; return o + 2; }
    writeUInt32LE(v, o = 0) { this[o] = v; this[o + 1] = v >>> 8; this[o + 2] = v >>> 16; this[o + 3] = v >>> 24; return o + 4; }
    writeUInt32BE(v, o = 0) { this[o] = v >>> 24; this[o + 1] = v >>> 16; this[o + 2] = v >>> 8; this[o + 3] = v; return o + 4; }
    writeInt32LE(v, o = 0) { return this.writeUInt32LE(v >>> 0, o); }
    writeInt32BE(v, o = 0) { return this.writeUInt32BE(v >>> 0, o); }
    [customInspectSymbol](recurseTimes, ctx) {
      const max = 50;
      const n = Math.min(max, this.length);
      let str = '';
      for (let i = 0; i < n; i++) str += (i ? ' ' : '') + (this[i] < 16 ? '0' : '') + this[i].toString(16);
      const remaining = this.length - max;
      if (remaining > 0) str += ` ... ${remaining} more byte${remaining > 1 ? 's' : ''}`;
      return `<${this.constructor.name} ${str}>`;
    }
  }
  Buffer.poolSize = 8192;
  function toBuffer(u8) {
    return new Buffer(u8.buffer, u8.byteOffset, u8.length);
  }

  // ---- Number.prototype.toLocaleString (en-US, like node's ICU) --------
  // ICU formats the shortest round-trip decimal digits of the double (not
  // its exact binary value), rounding half away from zero ("halfExpand").
  // Only en-US conventions: other locales are formatted like en-US.
  const currencySymbols = { __proto__: null, USD: '$', EUR: '€', GBP: '£', JPY: '¥', CNY: 'CN¥', INR: '₹', KRW: '₩',
    CAD: 'CA$', AUD: 'A$', ILS: '₪', BRL: 'R$', MXN: 'MX$', NZD: 'NZ$', HKD: 'HK$', TWD: 'NT$', VND: '₫',
    XAF: 'FCFA', PHP: '₱' };
  const currencyDigits = { __proto__: null, JPY: 0, KRW: 0, VND: 0, CLP: 0, ISK: 0, XAF: 0, BHD: 3, KWD: 3,
    JOD: 3, OMR: 3, TND: 3 };

  function shortestDigits(x) {
    // x finite, >= 0: value = 0.DIGITS x 10^point
    const s = String(x);
    let mant = s, e = 0;
    const ei = s.indexOf('e');
    if (ei >= 0) {
      mant = s.slice(0, ei);
      e = Number(s.slice(ei + 1));
    }
    const dot = mant.indexOf('.');
    const intPart = dot < 0 ? mant : mant.slice(0, dot);
    const all = intPart + (dot < 0 ? '' : mant.slice(dot + 1));
    const stripped = all.replace(/^0+/, '');
    return { digits: stripped.replace(/0+$/, ''), point: intPart.length + e - (all.length - stripped.length) };
  }

  // Round 0.DIGITS x 10^point to `keep` digits (half away from zero).
  function roundDigits(d, keep) {
    let { digits, point } = d;
    if (keep < 0) return { digits: '', point };
    if (digits.length <= keep) return { digits, point };
    const up = digits.charCodeAt(keep) >= 53; // '5'
    digits = digits.slice(0, keep);
    if (up) {
      let i = digits.length - 1;
      while (i >= 0 && digits[i] === '9') i--;
      if (i < 0) {
        digits = '1';
        point += 1;
      } else {
        digits = digits.slice(0, i) + String.fromCharCode(digits.charCodeAt(i) + 1);
      }
    }
    return { digits: digits.replace(/0+$/, ''), point };
  }

  function getOption(options, name, min, max, fallback) {
    let v = options[name];
    if (v === undefined) return fallback;
    v = Number(v);
    if (!(v >= min && v <= max)) throw new RangeError(`${name} value is out of range.`);
    return Math.floor(v);
  }

  function formatNumberEnUS(x, options) {
    options = options === undefined ? {} : Object(options);
    const style = options.style === undefined ? 'decimal' : String(options.style);
    let currency, symbol, cDigits = 2;
    if (style === 'currency') {
      if (options.currency === undefined) throw new TypeError('Currency code is required with currency style.');
      currency = String(options.currency).toUpperCase();
      if (currency in currencyDigits) cDigits = currencyDigits[currency];
      const display = options.currencyDisplay === undefined ? 'symbol' : String(options.currencyDisplay);
      symbol = display === 'code' || !(currency in currencySymbols) ? `${currency}\u00a0` : currencySymbols[currency];
      if (display === 'narrowSymbol' && currency in currencySymbols) symbol = currencySymbols[currency].replace(/^[A-Z]+/, '');
    } else if (style !== 'decimal' && style !== 'percent') {
      throw new RangeError(`Value ${style} out of range for Intl.NumberFormat options property style`);
    }
    const defMin = style === 'currency' ? cDigits : 0;
    const defMax = style === 'currency' ? cDigits : style === 'percent' ? 0 : 3;
    const minID = getOption(options, 'minimumIntegerDigits', 1, 21, 1);
    const minFD = getOption(options, 'minimumFractionDigits', 0, 100, defMin);
    const maxFD = getOption(options, 'maximumFractionDigits', minFD, 100, Math.max(minFD, defMax));
    const useSig = options.minimumSignificantDigits !== undefined || options.maximumSignificantDigits !== undefined;
    const minSD = getOption(options, 'minimumSignificantDigits', 1, 21, 1);
    const maxSD = getOption(options, 'maximumSignificantDigits', minSD, 21, 21);
    const grouping = options.useGrouping === undefined ? true : options.useGrouping !== false && options.useGrouping !== 'false';

    let body;
    const negative = x < 0 || Object.is(x, -0);
    if (Number.isNaN(x)) {
      body = 'NaN';
    } else if (!Number.isFinite(x)) {
      body = '∞';
    } else {
      let d = shortestDigits(Math.abs(x));
      if (style === 'percent' && d.digits !== '') d.point += 2; // x100 in decimal, like ICU
      let minFrac;
      if (useSig) {
        d = roundDigits(d, maxSD);
        minFrac = 0; // padded to minimumSignificantDigits below
      } else {
        d = roundDigits(d, d.point + maxFD);
        minFrac = minFD;
      }
      let intDigits, fracDigits;
      if (d.digits === '') {
        intDigits = '0';
        fracDigits = '';
      } else if (d.point <= 0) {
        intDigits = '0';
        fracDigits = '0'.repeat(-d.point) + d.digits;
      } else if (d.point >= d.digits.length) {
        intDigits = d.digits + '0'.repeat(d.point - d.digits.length);
        fracDigits = '';
      } else {
        intDigits = d.digits.slice(0, d.point);
        fracDigits = d.digits.slice(d.point);
      }
      if (useSig) {
        // pad with zeros to minimumSignificantDigits (zero counts as one digit)
        const shown = () => (d.digits === '' ? 1 + fracDigits.length :
          d.point > 0 ? intDigits.length + fracDigits.length : fracDigits.length + d.point);
        while (shown() < minSD) fracDigits += '0';
      }
      if (fracDigits.length < minFrac) fracDigits = fracDigits.padEnd(minFrac, '0');
      intDigits = intDigits.padStart(minID, '0');
      if (grouping && intDigits.length > 3) intDigits = intDigits.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
      body = fracDigits ? `${intDigits}.${fracDigits}` : intDigits;
    }
    if (style === 'currency') body = symbol + body;
    if (style === 'percent') body += '%';
    return negative && !(Number.isNaN(x)) ? `-${body}` : body;
  }

  function number_toLocaleString(locales, options) {
    let x = this;
    if (typeof x !== 'number') {
      if (cls(x) !== 'Number') throw new TypeError('Number.prototype.toLocaleString requires that \'this\' be a Number');
      x = NumberPrototypeValueOf.call(x);
    }
    return formatNumberEnUS(x, options);
  }

  // BigInt.prototype.toLocaleString: en-US digit grouping, exact for any size; with options,
  // formatted as the nearest Number (node's Intl formats the BigInt itself).
  function bigint_toLocaleString(locales, options) {
    let x = this;
    if (typeof x !== 'bigint') {
      if (cls(x) !== 'BigInt') throw new TypeError('BigInt.prototype.toLocaleString requires that \'this\' be a BigInt');
      x = BigIntPrototypeValueOf.call(x);
    }
    if (options !== undefined) return formatNumberEnUS(Number(x), options);
    const digits = (x < 0n ? -x : x).toString();
    let out = '';
    for (let i = 0; i < digits.length; i++) {
      if (i > 0 && (digits.length - i) % 3 === 0) out += ',';
      out += digits[i];
    }
    return x < 0n ? `-${out}` : out;
  }

  // ---- String.prototype.localeCompare (ICU root collation, approximated) -
  // A per-character table taken from node's ICU by tools/gen-collation.mjs
  // (Latin, Greek, Cyrillic, ASCII punctuation and symbols): primary weight
  // (letter), secondary (accent), tertiary (case). Strings are NFC-normalised,
  // compared level by level like UCA; `numeric` compares digit runs by value.
  // Characters outside the table sort after it by code point.
  // BEGIN GENERATED COLLATION (tools/gen-collation.mjs, from node v20.20.2 ICU 78.2)
  const COLLATION_TABLE = "҆2҅2҄0҇2҃1\t1\n1\u000b1\f1\r1 3 1‾1_1‗1-1‐3‑1‒1–1—1―1⁓1,1;1⁏1:1!1‼1⁉1¡1?1⁈1⁇1¿1‽1.3․1‥1…1·1⁕1⁖1⁘1⁙1⁚1⁛1⁜1⁝1⁞1'2‘2’2‚2‛1‹1›1\"2“2”2„2‟1«1»1(1)1[1]1{1}1⁅1⁆1‖1§1¶1⁋1@1*1⁎1⁑1/1\\1&1⁊1#1%1‰1‱1†1‡1•1‣1‧1⁃1⁌1⁍1′1″1‴1⁗1‵1‶1‷1‸1※1‿1⁔1⁀1⁐1⁁1⁂1`1´0΄1^1¯1¨2΅1¸1͵1°1҂1©1®1϶1+1±1÷1×1<1=1>1¬1|1¦1~1⁒1⁄1¤1¢1$1£1¥1₠1₡1₢1₣1₤1₥1₦1₩1₪1₫1€1₭1₮1₯1₰1₱1₲1₳1₴1₵1₶1₷1₸1₹1₺1₻1₼1₽1₾1₿1⃀10113¹1½1¼123²133³1¾1415161718191a3A3ª2á3Á2à3À2ă3Ă2â3Â2ǎ3Ǎ2å3Å2ǻ3Ǻ2ä3Ä2ǟ3Ǟ2ã3Ã2ȧ3Ȧ2ǡ3Ǡ2ą3Ą2ā3Ā2ȁ3Ȁ2ȃ3Ȃ1Ⱥ1b3B1ƀ3Ƀ1Ɓ1ƃ3Ƃ1c3C2ć3Ć2ĉ3Ĉ2č3Č2ċ3Ċ2ç3Ç1ȼ3Ȼ1ƈ3Ƈ1d3D2ď3Ď2đ3Đ2ð3Ð1Ɖ1Ɗ1ƌ3Ƌ1ȡ1e3E2é3É2è3È2ĕ3Ĕ2ê3Ê2ě3Ě2ë3Ë2ė3Ė2ȩ3Ȩ2ę3Ę2ē3Ē2ȅ3Ȅ2ȇ3Ȇ1ɇ3Ɇ1ǝ3Ǝ1Ə1Ɛ1f3F1ƒ3Ƒ1g3G2ǵ3Ǵ2ğ3Ğ2ĝ3Ĝ2ǧ3Ǧ2ġ3Ġ2ģ3Ģ1ǥ3Ǥ1Ɠ1Ɣ1ƣ3Ƣ1h3H2ĥ3Ĥ2ȟ3Ȟ2ħ3Ħ1ƕ3Ƕ1i3I2í3Í2ì3Ì2ĭ3Ĭ2î3Î2ǐ3Ǐ2ï3Ï2ĩ3Ĩ2İ2į3Į2ī3Ī2ȉ3Ȉ2ȋ3Ȋ1ı1Ɨ1Ɩ1j3J2ĵ3Ĵ2ǰ1ȷ1ɉ3Ɉ1k3K2ǩ3Ǩ2ķ3Ķ1ƙ3Ƙ1l3L2ĺ3Ĺ2ľ3Ľ2ļ3Ļ2ł3Ł2ŀ3Ŀ1ƚ3Ƚ1ȴ1ƛ1m3M1n3N2ń3Ń2ǹ3Ǹ2ň3Ň2ñ3Ñ2ņ3Ņ1Ɲ1ƞ3Ƞ1ȵ1ŋ3Ŋ1o3O3º2ó3Ó2ò3Ò2ŏ3Ŏ2ô3Ô2ǒ3Ǒ2ö3Ö2ȫ3Ȫ2ő3Ő2õ3Õ2ȭ3Ȭ2ȯ3Ȯ2ȱ3Ȱ2ø3Ø2ǿ3Ǿ2ǫ3Ǫ2ǭ3Ǭ2ō3Ō2ȍ3Ȍ2ȏ3Ȏ2ơ3Ơ1Ɔ1Ɵ1ȣ3Ȣ1p3P1₧1ƥ3Ƥ1q3Q1ɋ3Ɋ1ĸ1r3R2ŕ3Ŕ2ř3Ř2ŗ3Ŗ2ȑ3Ȑ2ȓ3Ȓ1Ʀ1ɍ3Ɍ1s3S2ś3Ś2ŝ3Ŝ2š3Š2ş3Ş2ș3Ș2ſ1ȿ1Ʃ1ƪ1t3T2ť3Ť2ţ3Ţ2ț3Ț1ŧ3Ŧ1Ⱦ1ƫ1ƭ3Ƭ1Ʈ1ȶ1u3U2ú3Ú2ù3Ù2ŭ3Ŭ2û3Û2ǔ3Ǔ2ů3Ů2ü3Ü2ǘ3Ǘ2ǜ3Ǜ2ǚ3Ǚ2ǖ3Ǖ2ű3Ű2ũ3Ũ2ų3Ų2ū3Ū2ȕ3Ȕ2ȗ3Ȗ2ư3Ư1Ʉ1Ɯ1Ʊ1v3V1Ʋ1Ʌ1w3W2ŵ3Ŵ1x3X1y3Y2ý3Ý2ŷ3Ŷ2ÿ3Ÿ2ȳ3Ȳ1ɏ3Ɏ1ƴ3Ƴ1ȝ3Ȝ1z3Z2ź3Ź2ž3Ž2ż3Ż1ƶ3Ƶ1ȥ3Ȥ1ɀ1Ʒ2ǯ3Ǯ1ƹ3Ƹ1ƺ1þ3Þ1ƿ3Ƿ1ƻ1ƨ3Ƨ1ƽ3Ƽ1ƅ3Ƅ1ɂ3Ɂ1ŉ1ǀ1ǁ1ǂ1ǃ1α3Α2ά3Ά1β3ϐ3Β1γ3Γ1δ3Δ1ε3ϵ3Ε2έ3Έ1ϝ3Ϝ1ͷ3Ͷ1ϛ3Ϛ1ζ3Ζ1ͱ3Ͱ1η3Η2ή3Ή1θ3ϑ3Θ3ϴ1ι3ͺ3Ι2ί3Ί2ϊ3Ϊ2ΐ1ϳ3Ϳ1κ3ϰ3Κ1ϗ3Ϗ1λ3Λ1μ3µ3Μ1ν3Ν1ξ3Ξ1ο3Ο2ό3Ό1π3ϖ3Π1ϻ3Ϻ1ϟ3Ϟ1ϙ3Ϙ1ρ3ϱ3Ρ1ϼ1σ3ϲ3Σ3Ϲ3ς1ͼ3Ͼ1ͻ3Ͻ1ͽ3Ͽ1τ3Τ1υ3Υ3ϒ2ύ3Ύ3ϓ2ϋ3Ϋ3ϔ2ΰ1φ3ϕ3Φ1χ3Χ1ψ3Ψ1ω3Ω2ώ3Ώ1ϡ3Ϡ1ͳ3Ͳ1ϸ3Ϸ1ϣ3Ϣ1ϥ3Ϥ1ϧ3Ϧ1ϩ3Ϩ1ϫ3Ϫ1ϭ3Ϭ1ϯ3Ϯ1а3А2ӑ3Ӑ2ӓ3Ӓ1ә3Ә2ӛ3Ӛ1ӕ3Ӕ1б3Б1в3В1г3Г2ѓ3Ѓ2ґ3Ґ1ғ3Ғ1ӻ3Ӻ1ҕ3Ҕ1ӷ3Ӷ1д3Д1ђ3Ђ1ҙ3Ҙ1е3Е2ѐ3Ѐ2ӗ3Ӗ2ё3Ё1є3Є1ж3Ж2ӂ3Ӂ2ӝ3Ӝ1җ3Җ1з3З2ӟ3Ӟ1ѕ3Ѕ1ӡ3Ӡ1и3И2ѝ3Ѝ2ӥ3Ӥ2ӣ3Ӣ1ҋ3Ҋ1і3І2ї3Ї1й3Й1ј3Ј1к3К2ќ3Ќ1қ3Қ1ӄ3Ӄ1ҡ3Ҡ1ҟ3Ҟ1ҝ3Ҝ1л3Л1ӆ3Ӆ1љ3Љ1м3М1ӎ3Ӎ1н3Н1ӊ3Ӊ1ң3Ң1ӈ3Ӈ1ҥ3Ҥ1њ3Њ1о3О2ӧ3Ӧ1ө3Ө2ӫ3Ӫ1п3П1ҧ3Ҧ1ҁ3Ҁ1р3Р1ҏ3Ҏ1с3С1ҫ3Ҫ1т3Т1ҭ3Ҭ1ћ3Ћ1у3У2ў3Ў2ӱ3Ӱ2ӳ3Ӳ2ӯ3Ӯ1ү3Ү1ұ3Ұ1ѹ3Ѹ1ф3Ф1х3Х1ӽ3Ӽ1ӿ3Ӿ1ҳ3Ҳ1һ3Һ1ѡ3Ѡ1ѿ3Ѿ1ѽ3Ѽ1ѻ3Ѻ1ц3Ц1ҵ3Ҵ1ч3Ч2ӵ3Ӵ1ҷ3Ҷ1ӌ3Ӌ1ҹ3Ҹ1ҽ3Ҽ1ҿ3Ҿ1џ3Џ1ш3Ш1щ3Щ1ъ3Ъ1ы3Ы2ӹ3Ӹ1ь3Ь1ҍ3Ҍ1ѣ3Ѣ1э3Э2ӭ3Ӭ1ю3Ю1я3Я1ѥ3Ѥ1ѧ3Ѧ1ѫ3Ѫ1ѩ3Ѩ1ѭ3Ѭ1ѯ3Ѯ1ѱ3Ѱ1ѳ3Ѳ1ѵ3Ѵ2ѷ3Ѷ1ҩ3Ҩ1ӏ3Ӏ1";
  const COLLATION_IGNORABLE = "\u0000\u0001\u0002\u0003\u0004\u0005\u0006\u0007\b\u000e\u000f\u0010\u0011\u0012\u0013\u0014\u0015\u0016\u0017\u0018\u0019\u001a\u001b\u001c\u001d\u001e\u001f­҈҉";
  const COLLATION_EXPANSIONS = {"Æ":["AE",1],"ß":["ss",1],"æ":["ae",1],"Ĳ":["IJ",1],"ĳ":["ij",1],"Œ":["OE",1],"œ":["oe",1],"ƍ":["zw",1],"ƾ":["ts",1],"Ǆ":["DZ",1],"ǅ":["dz",1],"ǆ":["dz",1],"Ǉ":["LJ",1],"ǈ":["lj",1],"ǉ":["lj",1],"Ǌ":["NJ",1],"ǋ":["nj",1],"ǌ":["nj",1],"Ǣ":["AE",1],"ǣ":["ae",1],"Ǳ":["DZ",1],"ǲ":["dz",1],"ǳ":["dz",1],"Ǽ":["AE",1],"ǽ":["ae",1],"ȸ":["db",1],"ȹ":["qp",1],"₨":["rs",1]};
  // END GENERATED COLLATION

  let collationMap, primaryZero;
  const UNKNOWN_PRIMARY = 1 << 20;
  function buildCollation() {
    collationMap = new Map();
    let p = 1, sec = 0, ter = 0;
    const tbl = COLLATION_TABLE;
    for (let i = 0; i < tbl.length;) {
      const cp = tbl.codePointAt(i);
      i += cp > 0xffff ? 2 : 1;
      const level = tbl.charCodeAt(i++) - 48;
      collationMap.set(cp, [p, sec, ter]);
      if (level === 1) {
        p++;
        sec = 0;
        ter = 0;
      } else if (level === 2) {
        sec++;
        ter = 0;
      } else if (level === 3) {
        ter++;
      }
    }
    for (const c of COLLATION_IGNORABLE) collationMap.set(c.codePointAt(0), null);
    for (const c of Object.keys(COLLATION_EXPANSIONS)) {
      const [exp, rank] = COLLATION_EXPANSIONS[c];
      const parts = [...exp].map((ch) => collationMap.get(ch.codePointAt(0)));
      collationMap.set(c.codePointAt(0), parts.map(([pp, ss, tt]) => [pp, ss, tt + 100 * rank]));
    }
    primaryZero = collationMap.get(48)[0];
  }

  function collationKey(str, numeric, ignorePunctuation) {
    const P = [], S = [], T = [];
    str = str.normalize('NFC');
    for (let i = 0; i < str.length;) {
      const cp = str.codePointAt(i);
      if (numeric && cp >= 48 && cp <= 57) {
        let j = i;
        while (j < str.length && str.charCodeAt(j) >= 48 && str.charCodeAt(j) <= 57) j++;
        const digits = str.slice(i, j).replace(/^0+/, '');
        P.push(primaryZero, UNKNOWN_PRIMARY * 2 + digits.length);
        for (let k = 0; k < digits.length; k++) P.push(digits.charCodeAt(k));
        S.push(0);
        T.push(0);
        i = j;
        continue;
      }
      i += cp > 0xffff ? 2 : 1;
      let w = collationMap.get(cp);
      if (w === null) continue; // ignorable
      if (w === undefined) {
        const ch = String.fromCodePoint(cp);
        if (/\p{Mn}/u.test(ch)) { // combining mark: an accent only (secondary weight)
          S.push(200 + cp);
          T.push(0);
          continue;
        }
        const d = ch.normalize('NFD');
        const base = d.codePointAt(0);
        if (d.length > 1 && base < 0x10000 && collationMap.get(base)) {
          // precomposed letter outside the table: base letter + accents
          str = str.slice(0, i) + d.slice(1) + str.slice(i);
          w = collationMap.get(base);
        } else {
          P.push(UNKNOWN_PRIMARY + cp);
          S.push(0);
          T.push(0);
          continue;
        }
      }
      if (typeof w[0] === 'number') {
        if (ignorePunctuation && w[0] < primaryZero) continue;
        P.push(w[0]);
        S.push(w[1]);
        T.push(w[2]);
      } else {
        for (const e of w) {
          P.push(e[0]);
          S.push(e[1]);
          T.push(e[2]);
        }
      }
    }
    return { P, S, T };
  }

  function compareWeights(a, b) {
    const n = Math.min(a.length, b.length);
    for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i] < b[i] ? -1 : 1;
    return a.length === b.length ? 0 : a.length < b.length ? -1 : 1;
  }

  let keyCache = new Map();
  function string_localeCompare(that, locales, options) {
    if (this === undefined || this === null) {
      throw new TypeError('String.prototype.localeCompare called on null or undefined');
    }
    const a = String(this), b = String(that);
    if (!collationMap) buildCollation();
    let sensitivity = 'variant', numeric = false, ignorePunctuation = false;
    if (options !== undefined) {
      options = Object(options);
      if (options.sensitivity !== undefined) sensitivity = String(options.sensitivity);
      numeric = Boolean(options.numeric);
      ignorePunctuation = Boolean(options.ignorePunctuation);
    }
    if (a === b) return 0;
    const mode = (numeric ? 1 : 0) + (ignorePunctuation ? 2 : 0);
    const getKey = (str) => {
      const id = mode + str;
      let k = keyCache.get(id);
      if (k === undefined) {
        if (keyCache.size > 2000) keyCache = new Map();
        k = collationKey(str, numeric, ignorePunctuation);
        keyCache.set(id, k);
      }
      return k;
    };
    const ka = getKey(a), kb = getKey(b);
    let r = compareWeights(ka.P, kb.P);
    if (r !== 0) return r;
    if (sensitivity === 'accent' || sensitivity === 'variant') {
      r = compareWeights(ka.S, kb.S);
      if (r !== 0) return r;
    }
    if (sensitivity === 'case' || sensitivity === 'variant') {
      r = compareWeights(ka.T, kb.T);
      if (r !== 0) return r;
    }
    return 0;
  }

  // ---- hashes: require('crypto').createHash/createHmac, crypto.subtle.digest
  // Pure JS MD5, SHA-1, SHA-224/256, SHA-384/512 over the whole message
  // (inputs are buffered until digest()).
  function sha256Core(msg, is224) {
    const K = sha256Core.K || (sha256Core.K = Uint32Array.from([
      0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5, 0xd807aa98,
      0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786,
      0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8,
      0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13,
      0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819,
      0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a,
      0x5b9cca4f, 0x682e6ff3, 0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7,
      0xc67178f2]));
    const H = Uint32Array.from(is224 ?
      [0xc1059ed8, 0x367cd507, 0x3070dd17, 0xf70e5939, 0xffc00b31, 0x68581511, 0x64f98fa7, 0xbefa4fa4] :
      [0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19]);
    const p = padMessage(msg, 64, false);
    const W = new Uint32Array(64);
    const dv = new DataView(p.buffer);
    for (let off = 0; off < p.length; off += 64) {
      for (let i = 0; i < 16; i++) W[i] = dv.getUint32(off + i * 4);
      for (let i = 16; i < 64; i++) {
        const a = W[i - 15], b = W[i - 2];
        const s0 = ((a >>> 7) | (a << 25)) ^ ((a >>> 18) | (a << 14)) ^ (a >>> 3);
        const s1 = ((b >>> 17) | (b << 15)) ^ ((b >>> 19) | (b << 13)) ^ (b >>> 10);
        W[i] = (W[i - 16] + s0 + W[i - 7] + s1) | 0;
      }
      let a = H[0], b = H[1], c = H[2], d = H[3], e = H[4], f = H[5], g = H[6], h = H[7];
      for (let i = 0; i < 64; i++) {
        const S1 = ((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7));
        const t1 = (h + S1 + ((e & f) ^ (~e & g)) + K[i] + W[i]) | 0;
        const S0 = ((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10));
        const t2 = (S0 + ((a & b) ^ (a & c) ^ (b & c))) | 0;
        h = g; g = f; f = e; e = (d + t1) | 0; d = c; c = b; b = a; a = (t1 + t2) | 0;
      }
      H[0] += a; H[1] += b; H[2] += c; H[3] += d; H[4] += e; H[5] += f; H[6] += g; H[7] += h;
    }
    return wordsToBytes(is224 ? H.subarray(0, 7) : H, false);
  }

  // pad to a multiple of `block` bytes with 0x80, zeros and the bit length
  // (64-bit big- or little-endian; SHA-512 uses a 128-bit field)
  function padMessage(msg, block, littleEndian) {
    const lenField = block === 128 ? 16 : 8;
    const total = Math.ceil((msg.length + 1 + lenField) / block) * block;
    const p = new Uint8Array(total);
    p.set(msg);
    p[msg.length] = 0x80;
    const bits = msg.length * 8;
    const dv = new DataView(p.buffer);
    const hi = Math.floor(bits / 4294967296), lo = bits >>> 0;
    if (littleEndian) {
      dv.setUint32(total - 8, lo, true);
      dv.setUint32(total - 4, hi, true);
    } else {
      dv.setUint32(total - 8, hi);
      dv.setUint32(total - 4, lo);
    }
    return p;
  }

  function wordsToBytes(words, littleEndian) {
    const out = new Uint8Array(words.length * 4);
    const dv = new DataView(out.buffer);
    for (let i = 0; i < words.length; i++) dv.setUint32(i * 4, words[i], littleEndian);
    return out;
  }

  function sha1Core(msg) {
    const H = Uint32Array.from([0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476, 0xc3d2e1f0]);
    const p = padMessage(msg, 64, false);
    const W = new Uint32Array(80);
    const dv = new DataView(p.buffer);
    for (let off = 0; off < p.length; off += 64) {
      for (let i = 0; i < 16; i++) W[i] = dv.getUint32(off + i * 4);
      for (let i = 16; i < 80; i++) {
        const x = W[i - 3] ^ W[i - 8] ^ W[i - 14] ^ W[i - 16];
        W[i] = (x << 1) | (x >>> 31);
      }
      let a = H[0], b = H[1], c = H[2], d = H[3], e = H[4];
      for (let i = 0; i < 80; i++) {
        let f, k;
        if (i < 20) { f = (b & c) | (~b & d); k = 0x5a827999; }
        else if (i < 40) { f = b ^ c ^ d; k = 0x6ed9eba1; }
        else if (i < 60) { f = (b & c) | (b & d) | (c & d); k = 0x8f1bbcdc; }
        else { f = b ^ c ^ d; k = 0xca62c1d6; }
        const t = (((a << 5) | (a >>> 27)) + f + e + k + W[i]) | 0;
        e = d; d = c; c = (b << 30) | (b >>> 2); b = a; a = t;
      }
      H[0] += a; H[1] += b; H[2] += c; H[3] += d; H[4] += e;
    }
    return wordsToBytes(H, false);
  }

  function md5Core(msg) {
    const S = [7, 12, 17, 22, 5, 9, 14, 20, 4, 11, 16, 23, 6, 10, 15, 21];
    const K = md5Core.K || (md5Core.K = Uint32Array.from({ length: 64 },
      (_, i) => Math.floor(Math.abs(Math.sin(i + 1)) * 4294967296)));
    const H = Uint32Array.from([0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476]);
    const p = padMessage(msg, 64, true);
    const dv = new DataView(p.buffer);
    const M = new Uint32Array(16);
    for (let off = 0; off < p.length; off += 64) {
      for (let i = 0; i < 16; i++) M[i] = dv.getUint32(off + i * 4, true);
      let a = H[0], b = H[1], c = H[2], d = H[3];
      for (let i = 0; i < 64; i++) {
        let f, g;
        if (i < 16) { f = (b & c) | (~b & d); g = i; }
        else if (i < 32) { f = (d & b) | (~d & c); g = (5 * i + 1) % 16; }
        else if (i < 48) { f = b ^ c ^ d; g = (3 * i + 5) % 16; }
        else { f = c ^ (b | ~d); g = (7 * i) % 16; }
        const t = d;
        d = c;
        c = b;
        const x = (a + f + K[i] + M[g]) | 0;
        const sh = S[(i >> 4) * 4 + (i % 4)];
        b = (b + ((x << sh) | (x >>> (32 - sh)))) | 0;
        a = t;
      }
      H[0] += a; H[1] += b; H[2] += c; H[3] += d;
    }
    return wordsToBytes(H, true);
  }

  // SHA-512/384 with 64-bit words as (hi, lo) 32-bit pairs
  function sha512Core(msg, is384) {
    const K = sha512Core.K || (sha512Core.K = Uint32Array.from([
      0x428a2f98, 0xd728ae22, 0x71374491, 0x23ef65cd, 0xb5c0fbcf, 0xec4d3b2f, 0xe9b5dba5, 0x8189dbbc, 0x3956c25b,
      0xf348b538, 0x59f111f1, 0xb605d019, 0x923f82a4, 0xaf194f9b, 0xab1c5ed5, 0xda6d8118, 0xd807aa98, 0xa3030242,
      0x12835b01, 0x45706fbe, 0x243185be, 0x4ee4b28c, 0x550c7dc3, 0xd5ffb4e2, 0x72be5d74, 0xf27b896f, 0x80deb1fe,
      0x3b1696b1, 0x9bdc06a7, 0x25c71235, 0xc19bf174, 0xcf692694, 0xe49b69c1, 0x9ef14ad2, 0xefbe4786, 0x384f25e3,
      0x0fc19dc6, 0x8b8cd5b5, 0x240ca1cc, 0x77ac9c65, 0x2de92c6f, 0x592b0275, 0x4a7484aa, 0x6ea6e483, 0x5cb0a9dc,
      0xbd41fbd4, 0x76f988da, 0x831153b5, 0x983e5152, 0xee66dfab, 0xa831c66d, 0x2db43210, 0xb00327c8, 0x98fb213f,
      0xbf597fc7, 0xbeef0ee4, 0xc6e00bf3, 0x3da88fc2, 0xd5a79147, 0x930aa725, 0x06ca6351, 0xe003826f, 0x14292967,
      0x0a0e6e70, 0x27b70a85, 0x46d22ffc, 0x2e1b2138, 0x5c26c926, 0x4d2c6dfc, 0x5ac42aed, 0x53380d13, 0x9d95b3df,
      0x650a7354, 0x8baf63de, 0x766a0abb, 0x3c77b2a8, 0x81c2c92e, 0x47edaee6, 0x92722c85, 0x1482353b, 0xa2bfe8a1,
      0x4cf10364, 0xa81a664b, 0xbc423001, 0xc24b8b70, 0xd0f89791, 0xc76c51a3, 0x0654be30, 0xd192e819, 0xd6ef5218,
      0xd6990624, 0x5565a910, 0xf40e3585, 0x5771202a, 0x106aa070, 0x32bbd1b8, 0x19a4c116, 0xb8d2d0c8, 0x1e376c08,
      0x5141ab53, 0x2748774c, 0xdf8eeb99, 0x34b0bcb5, 0xe19b48a8, 0x391c0cb3, 0xc5c95a63, 0x4ed8aa4a, 0xe3418acb,
      0x5b9cca4f, 0x7763e373, 0x682e6ff3, 0xd6b2b8a3, 0x748f82ee, 0x5defb2fc, 0x78a5636f, 0x43172f60, 0x84c87814,
      0xa1f0ab72, 0x8cc70208, 0x1a6439ec, 0x90befffa, 0x23631e28, 0xa4506ceb, 0xde82bde9, 0xbef9a3f7, 0xb2c67915,
      0xc67178f2, 0xe372532b, 0xca273ece, 0xea26619c, 0xd186b8c7, 0x21c0c207, 0xeada7dd6, 0xcde0eb1e, 0xf57d4f7f,
      0xee6ed178, 0x06f067aa, 0x72176fba, 0x0a637dc5, 0xa2c898a6, 0x113f9804, 0xbef90dae, 0x1b710b35, 0x131c471b,
      0x28db77f5, 0x23047d84, 0x32caab7b, 0x40c72493, 0x3c9ebe0a, 0x15c9bebc, 0x431d67c4, 0x9c100d4c, 0x4cc5d4be,
      0xcb3e42b6, 0x597f299c, 0xfc657e2a, 0x5fcb6fab, 0x3ad6faec, 0x6c44198c, 0x4a475817]));
    const H = Uint32Array.from(is384 ? [
      0xcbbb9d5d, 0xc1059ed8, 0x629a292a, 0x367cd507, 0x9159015a, 0x3070dd17, 0x152fecd8, 0xf70e5939,
      0x67332667, 0xffc00b31, 0x8eb44a87, 0x68581511, 0xdb0c2e0d, 0x64f98fa7, 0x47b5481d, 0xbefa4fa4] : [
      0x6a09e667, 0xf3bcc908, 0xbb67ae85, 0x84caa73b, 0x3c6ef372, 0xfe94f82b, 0xa54ff53a, 0x5f1d36f1,
      0x510e527f, 0xade682d1, 0x9b05688c, 0x2b3e6c1f, 0x1f83d9ab, 0xfb41bd6b, 0x5be0cd19, 0x137e2179]);
    const p = padMessage(msg, 128, false);
    const dv = new DataView(p.buffer);
    const W = new Uint32Array(160);
    // rotr of (hi, lo) by n: returns via out[0], out[1]
    const r = [0, 0];
    const rotr = (hi, lo, n) => {
      if (n < 32) {
        r[0] = (hi >>> n) | (lo << (32 - n));
        r[1] = (lo >>> n) | (hi << (32 - n));
      } else {
        n -= 32;
        r[0] = n === 0 ? lo : (lo >>> n) | (hi << (32 - n));
        r[1] = n === 0 ? hi : (hi >>> n) | (lo << (32 - n));
      }
    };
    const add = (ah, al, bh, bl) => {
      const lo = (al >>> 0) + (bl >>> 0);
      r[1] = lo >>> 0;
      r[0] = (ah + bh + Math.floor(lo / 4294967296)) >>> 0;
    };
    for (let off = 0; off < p.length; off += 128) {
      for (let i = 0; i < 32; i++) W[i] = dv.getUint32(off + i * 4);
      for (let i = 16; i < 80; i++) {
        const xh = W[(i - 15) * 2], xl = W[(i - 15) * 2 + 1];
        rotr(xh, xl, 1); let s0h = r[0], s0l = r[1];
        rotr(xh, xl, 8); s0h ^= r[0]; s0l ^= r[1];
        s0h ^= xh >>> 7; s0l ^= (xl >>> 7) | (xh << 25);
        const yh = W[(i - 2) * 2], yl = W[(i - 2) * 2 + 1];
        rotr(yh, yl, 19); let s1h = r[0], s1l = r[1];
        rotr(yh, yl, 61); s1h ^= r[0]; s1l ^= r[1];
        s1h ^= yh >>> 6; s1l ^= (yl >>> 6) | (yh << 26);
        add(W[(i - 16) * 2], W[(i - 16) * 2 + 1], s0h, s0l);
        add(r[0], r[1], W[(i - 7) * 2], W[(i - 7) * 2 + 1]);
        add(r[0], r[1], s1h, s1l);
        W[i * 2] = r[0];
        W[i * 2 + 1] = r[1];
      }
      const v = Array.from(H);
      for (let i = 0; i < 80; i++) {
        const [ah, al, bh, bl, ch, cl, dh, dl, eh, el, fh, fl, gh, gl, hh, hl] = v;
        rotr(eh, el, 14); let S1h = r[0], S1l = r[1];
        rotr(eh, el, 18); S1h ^= r[0]; S1l ^= r[1];
        rotr(eh, el, 41); S1h ^= r[0]; S1l ^= r[1];
        const chh = (eh & fh) ^ (~eh & gh), chl = (el & fl) ^ (~el & gl);
        add(hh, hl, S1h, S1l);
        add(r[0], r[1], chh, chl);
        add(r[0], r[1], K[i * 2], K[i * 2 + 1]);
        add(r[0], r[1], W[i * 2], W[i * 2 + 1]);
        const t1h = r[0], t1l = r[1];
        rotr(ah, al, 28); let S0h = r[0], S0l = r[1];
        rotr(ah, al, 34); S0h ^= r[0]; S0l ^= r[1];
        rotr(ah, al, 39); S0h ^= r[0]; S0l ^= r[1];
        const majh = (ah & bh) ^ (ah & ch) ^ (bh & ch), majl = (al & bl) ^ (al & cl) ^ (bl & cl);
        add(S0h, S0l, majh, majl);
        const t2h = r[0], t2l = r[1];
        add(dh, dl, t1h, t1l);
        const neh = r[0], nel = r[1];
        add(t1h, t1l, t2h, t2l);
        v[14] = gh; v[15] = gl; v[12] = fh; v[13] = fl; v[10] = eh; v[11] = el; v[8] = neh; v[9] = nel;
        v[6] = ch; v[7] = cl; v[4] = bh; v[5] = bl; v[2] = ah; v[3] = al; v[0] = r[0]; v[1] = r[1];
      }
      for (let i = 0; i < 16; i += 2) {
        add(H[i], H[i + 1], v[i], v[i + 1]);
        H[i] = r[0];
        H[i + 1] = r[1];
      }
    }
    return wordsToBytes(is384 ? H.subarray(0, 12) : H, false);
  }

  const hashAlgorithms = {
    __proto__: null,
    md5: [md5Core, 64], sha1: [sha1Core, 64], sha224: [(m) => sha256Core(m, true), 64],
    sha256: [(m) => sha256Core(m, false), 64], sha384: [(m) => sha512Core(m, true), 128],
    sha512: [(m) => sha512Core(m, false), 128],
  };
  function hashAlgorithm(name) {
    const key = String(name).toLowerCase().replace(/^rsa-/, '').replace(/-/g, '');
    const alg = hashAlgorithms[key];
    if (!alg) {
      const e = new Error('Digest method not supported');
      throw e;
    }
    return alg;
  }
  function dataBytes(data, encoding) {
    if (typeof data === 'string') return bytesFromString(data, encoding);
    if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    if (isAnyArrayBuffer(data)) return new Uint8Array(data);
    const e = new TypeError('The "data" argument must be of type string or an instance of Buffer, TypedArray, or ' +
      `DataView. Received ${inspect(data)}`);
    e.code = 'ERR_INVALID_ARG_TYPE';
    throw e;
  }
  function concatBytes(chunks) {
    const n = chunks.reduce((a, c) => a + c.length, 0);
    const out = new Uint8Array(n);
    let p = 0;
    for (const c of chunks) {
      out.set(c, p);
      p += c.length;
    }
    return out;
  }
  function encodeDigest(bytes, encoding) {
    return encoding === undefined || encoding === 'buffer' ? toBuffer(bytes) : bytesToString(bytes, encoding);
  }
  class Hash {
    #alg; #chunks = []; #done = false;
    constructor(alg) { this.#alg = alg; }
    update(data, encoding) {
      if (this.#done) throw Object.assign(new Error('Digest already called'), { code: 'ERR_CRYPTO_HASH_FINALIZED' });
      this.#chunks.push(dataBytes(data, encoding).slice());
      return this;
    }
    digest(encoding) {
      if (this.#done) throw Object.assign(new Error('Digest already called'), { code: 'ERR_CRYPTO_HASH_FINALIZED' });
      this.#done = true;
      return encodeDigest(this.#alg[0](concatBytes(this.#chunks)), encoding);
    }
    copy() {
      const h = new Hash(this.#alg);
      for (const c of this.#chunks) h.update(c);
      return h;
    }
  }
  class Hmac {
    #alg; #inner; #outerKey; #done = false;
    constructor(alg, key) {
      this.#alg = alg;
      const [fn, block] = alg;
      let k = dataBytes(key);
      if (k.length > block) k = fn(k);
      const padded = new Uint8Array(block);
      padded.set(k);
      const ipad = padded.map((b) => b ^ 0x36);
      this.#outerKey = padded.map((b) => b ^ 0x5c);
      this.#inner = [ipad];
    }
    update(data, encoding) {
      if (this.#done) throw Object.assign(new Error('Digest already called'), { code: 'ERR_CRYPTO_HASH_FINALIZED' });
      this.#inner.push(dataBytes(data, encoding).slice());
      return this;
    }
    digest(encoding) {
      this.#done = true;
      const fn = this.#alg[0];
      const innerHash = fn(concatBytes(this.#inner));
      return encodeDigest(fn(concatBytes([this.#outerKey, innerHash])), encoding);
    }
  }
  const createHash = (name) => new Hash(hashAlgorithm(name));
  const createHmac = (name, key) => new Hmac(hashAlgorithm(name), key);
  const getHashes = () => ['md5', 'sha1', 'sha224', 'sha256', 'sha384', 'sha512'];
  const subtle = {
    digest(algorithm, data) {
      return new Promise((resolve) => {
        const name = typeof algorithm === 'string' ? algorithm : algorithm.name;
        const key = String(name).toUpperCase();
        if (!['SHA-1', 'SHA-256', 'SHA-384', 'SHA-512'].includes(key)) {
          throw new DOMException('Unrecognized algorithm name', 'NotSupportedError');
        }
        resolve(hashAlgorithm(key)[0](dataBytes(data).slice()).buffer);
      });
    },
  };
  Object.defineProperty(crypto, 'subtle', { value: subtle, enumerable: true, configurable: true });

  // ---- require(): a few cheap built-in modules --------------------------
  function isDeepStrictEqual(a, b) {
    return deepEqual(a, b, true, new Map());
  }
  function deepEqual(a, b, strict, memo) {
    if (strict ? ObjectIs(a, b) : (a == b || (a !== a && b !== b))) return true;
    if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) {
      return false;
    }
    if (strict && ObjectGetPrototypeOf(a) !== ObjectGetPrototypeOf(b)) return false;
    if (ObjectPrototype.toString.call(a) !== ObjectPrototype.toString.call(b)) return false;
    if (memo.get(a) === b) return true;
    memo.set(a, b);
    if (isDate(a)) {
      if (DatePrototypeGetTime.call(a) !== DatePrototypeGetTime.call(b)) return false;
    } else if (isRegExp(a)) {
      if (String(a) !== String(b)) return false;
    } else if (isBoxedPrimitive(a)) {
      if (!ObjectIs(a.valueOf(), b.valueOf())) return false;
    } else if (isError(a)) {
      if (a.message !== b.message || a.name !== b.name) return false;
    } else if (isTypedArray(a) || isArrayBuffer(a)) {
      const x = isArrayBuffer(a) ? new Uint8Array(a) : a, y = isArrayBuffer(b) ? new Uint8Array(b) : b;
      if (x.length !== y.length) return false;
      for (let i = 0; i < x.length; i++) if (!ObjectIs(x[i], y[i]) && !(x[i] === y[i])) return false;
    }
    if (isMap(a)) {
      if (a.size !== b.size) return false;
      for (const [k, v] of a) {
        if (!b.has(k) || !deepEqual(v, b.get(k), strict, memo)) return false;
      }
    } else if (isSet(a)) {
      if (a.size !== b.size) return false;
      outer: for (const v of a) {
        if (b.has(v)) continue;
        if (typeof v === 'object' && v !== null) {
          for (const w of b) if (deepEqual(v, w, strict, memo)) continue outer;
        }
        return false;
      }
    }
    const ka = ObjectKeys(a), kb = ObjectKeys(b);
    if (ka.length !== kb.length) return false;
    for (const k of ka) {
      if (!hasOwn(b, k) || !deepEqual(a[k], b[k], strict, memo)) return false;
    }
    if (strict) {
      const sa = ObjectGetOwnPropertySymbols(a).filter((s) => propertyIsEnumerable(a, s));
      const sb = ObjectGetOwnPropertySymbols(b).filter((s) => propertyIsEnumerable(b, s));
      if (sa.length !== sb.length) return false;
      for (const s of sa) if (!deepEqual(a[s], b[s], strict, memo)) return false;
    }
    return true;
  }

  function promisify(original) {
    if (typeof original !== 'function') throw new TypeError('The "original" argument must be of type function');
    const custom = original[Symbol.for('nodejs.util.promisify.custom')];
    if (typeof custom === 'function') return custom;
    function fn(...args) {
      return new Promise((resolve, reject) => {
        original.call(this, ...args, (err, ...values) => {
          if (err) return reject(err);
          resolve(values[0]);
        });
      });
    }
    Object.setPrototypeOf(fn, ObjectGetPrototypeOf(original));
    return Object.defineProperties(fn, Object.getOwnPropertyDescriptors(original));
  }
  promisify.custom = Symbol.for('nodejs.util.promisify.custom');

  const types = {
    isDate, isRegExp, isMap, isSet, isWeakMap, isWeakSet, isPromise, isArrayBuffer, isSharedArrayBuffer,
    isAnyArrayBuffer, isDataView, isTypedArray, isMapIterator, isSetIterator, isNumberObject, isStringObject,
    isBooleanObject, isBigIntObject, isSymbolObject, isBoxedPrimitive, isAsyncFunction, isGeneratorFunction,
    isArgumentsObject,
    isNativeError: (v) => isNativeError(v),
    isProxy: (v) => N.proxyDetails(v) !== undefined,
    isGeneratorObject: (v) => cls(v) === 'Generator',
    isUint8Array: (v) => cls(v) === 'Uint8Array',
    isFloat64Array: (v) => cls(v) === 'Float64Array',
  };

  let utilModule;
  function getUtil() {
    if (utilModule) return utilModule;
    utilModule = {
      inspect,
      format,
      formatWithOptions,
      isDeepStrictEqual,
      promisify,
      types,
      TextEncoder,
      TextDecoder,
      inherits(ctor, superCtor) {
        Object.defineProperty(ctor, 'super_', { value: superCtor, writable: true, configurable: true });
        Object.setPrototypeOf(ctor.prototype, superCtor.prototype);
      },
      deprecate(fn, msg, code) {
        let warnedOnce = false;
        return function (...args) {
          if (!warnedOnce) {
            warnedOnce = true;
            process_emitWarning(msg, 'DeprecationWarning', code);
          }
          return new.target ? Reflect.construct(fn, args, new.target) : fn.apply(this, args);
        };
      },
      isArray: ArrayIsArray,
      stripVTControlCharacters: (s) => String(s).replace(/\u001b\[[0-9;]*[A-Za-z]/g, ''),
      toUSVString: (s) => String(s).toWellFormed(),
    };
    return utilModule;
  }

  // minimal EventEmitter for require('events')
  class EventEmitter {
    constructor() {
      this._events = Object.create(null);
    }
    on(name, fn) {
      (this._events[name] ||= []).push({ fn, once: false });
      return this;
    }
    addListener(name, fn) {
      return this.on(name, fn);
    }
    prependListener(name, fn) {
      (this._events[name] ||= []).unshift({ fn, once: false });
      return this;
    }
    once(name, fn) {
      (this._events[name] ||= []).push({ fn, once: true });
      return this;
    }
    off(name, fn) {
      const l = this._events[name];
      if (l) {
        const i = l.findLastIndex((e) => e.fn === fn);
        if (i !== -1) l.splice(i, 1);
      }
      return this;
    }
    removeListener(name, fn) {
      return this.off(name, fn);
    }
    removeAllListeners(name) {
      if (name === undefined) this._events = Object.create(null);
      else delete this._events[name];
      return this;
    }
    emit(name, ...args) {
      const l = this._events[name];
      if (!l || l.length === 0) {
        if (name === 'error') throw args[0] instanceof Error ? args[0] : new Error(`Unhandled error. (${inspect(args[0])})`);
        return false;
      }
      for (const e of [...l]) {
        if (e.once) this.off(name, e.fn);
        e.fn.apply(this, args);
      }
      return true;
    }
    listeners(name) {
      return (this._events[name] || []).map((e) => e.fn);
    }
    listenerCount(name) {
      return (this._events[name] || []).length;
    }
    eventNames() {
      return Reflect.ownKeys(this._events);
    }
    setMaxListeners() {
      return this;
    }
    getMaxListeners() {
      return 10;
    }
  }
  EventEmitter.EventEmitter = EventEmitter;
  EventEmitter.defaultMaxListeners = 10;
  EventEmitter.once = (emitter, name) => new Promise((resolve) => emitter.once(name, (...args) => resolve(args)));

  // minimal assert
  class AssertionError extends Error {
    constructor(options) {
      super(options.message);
      this.name = 'AssertionError';
      this.code = 'ERR_ASSERTION';
      this.actual = options.actual;
      this.expected = options.expected;
      this.operator = options.operator;
      this.generatedMessage = !options.userMessage;
    }
  }
  function fail(actual, expected, message, operator, defaultMsg) {
    if (message instanceof Error) throw message;
    throw new AssertionError({ message: message !== undefined ? message : defaultMsg, actual, expected, operator,
      userMessage: message !== undefined });
  }
  function assert(value, message) {
    if (!value) fail(value, true, message, '==', 'The expression evaluated to a falsy value:\n\n  assert(' + inspect(value) + ')\n');
  }
  assert.ok = assert;
  assert.AssertionError = AssertionError;
  assert.fail = (message = 'Failed') => fail(undefined, undefined, message, 'fail', 'Failed');
  assert.equal = (a, b, m) => { if (!(a == b || (a !== a && b !== b))) fail(a, b, m, '==', `${inspect(a)} == ${inspect(b)}`); };
  assert.notEqual = (a, b, m) => { if (a == b || (a !== a && b !== b)) fail(a, b, m, '!=', `${inspect(a)} != ${inspect(b)}`); };
  assert.strictEqual = (a, b, m) => { if (!ObjectIs(a, b)) fail(a, b, m, 'strictEqual', `Expected values to be strictly equal:\n\n${inspect(a)} !== ${inspect(b)}\n`); };
  assert.notStrictEqual = (a, b, m) => { if (ObjectIs(a, b)) fail(a, b, m, 'notStrictEqual', `Expected "actual" to be strictly unequal to: ${inspect(b)}`); };
  assert.deepStrictEqual = (a, b, m) => { if (!deepEqual(a, b, true, new Map())) fail(a, b, m, 'deepStrictEqual', `Expected values to be strictly deep-equal:\n${inspect(a)}\n\nshould equal\n\n${inspect(b)}`); };
  assert.deepEqual = (a, b, m) => { if (!deepEqual(a, b, false, new Map())) fail(a, b, m, 'deepEqual', `Expected values to be loosely deep-equal:\n\n${inspect(a)}\n\nshould loosely deep-equal\n\n${inspect(b)}`); };
  assert.notDeepStrictEqual = (a, b, m) => { if (deepEqual(a, b, true, new Map())) fail(a, b, m, 'notDeepStrictEqual', 'Expected "actual" not to be strictly deep-equal to: ' + inspect(b)); };
  assert.notDeepEqual = (a, b, m) => { if (deepEqual(a, b, false, new Map())) fail(a, b, m, 'notDeepEqual', '"actual" deepEqual "expected"'); };
  function matchesExpected(err, expected) {
    if (expected === undefined) return true;
    if (typeof expected === 'function') {
      if (expected.prototype !== undefined && err instanceof expected) return true;
      if (Error.isPrototypeOf(expected)) return false;
      return expected.call({}, err) === true;
    }
    if (isRegExp(expected)) return expected.test(String(err));
    if (typeof expected === 'object') {
      for (const k of ObjectKeys(expected)) {
        if (isRegExp(expected[k]) && typeof err[k] === 'string') {
          if (!expected[k].test(err[k])) return false;
        } else if (!deepEqual(err[k], expected[k], true, new Map())) return false;
      }
      return true;
    }
    return true;
  }
  assert.throws = (fn, expected, message) => {
    if (typeof expected === 'string') {
      message = expected;
      expected = undefined;
    }
    try {
      fn();
    } catch (e) {
      if (!matchesExpected(e, expected)) throw e;
      return;
    }
    fail(undefined, expected, message, 'throws', 'Missing expected exception.');
  };
  assert.doesNotThrow = (fn, message) => {
    try {
      fn();
    } catch (e) {
      fail(e, undefined, typeof message === 'string' ? message : undefined, 'doesNotThrow', `Got unwanted exception.\nActual message: "${e && e.message}"`);
    }
  };
  assert.rejects = async (p, expected, message) => {
    try {
      await (typeof p === 'function' ? p() : p);
    } catch (e) {
      if (!matchesExpected(e, expected)) throw e;
      return;
    }
    fail(undefined, expected, message, 'rejects', 'Missing expected rejection.');
  };
  assert.doesNotReject = async (p, message) => {
    try {
      await (typeof p === 'function' ? p() : p);
    } catch (e) {
      fail(e, undefined, message, 'doesNotReject', `Got unwanted rejection.\nActual message: "${e && e.message}"`);
    }
  };
  assert.match = (s, re, m) => { if (!re.test(s)) fail(s, re, m, 'match', `The input did not match the regular expression ${inspect(re)}. Input:\n\n${inspect(s)}\n`); };
  assert.doesNotMatch = (s, re, m) => { if (re.test(s)) fail(s, re, m, 'doesNotMatch', `The input was expected to not match the regular expression ${inspect(re)}. Input:\n\n${inspect(s)}\n`); };
  assert.ifError = (v) => { if (v !== null && v !== undefined) throw v; };
  assert.strict = assert;

  // `path` (POSIX, as node on Linux gives it): pure string work, the same answers as node's
  // path.posix. The working directory is '/' (process.cwd()). No path.win32.
  function receivedOf(v) {
    if (v == null) return ` Received ${v}`;
    if (typeof v === 'function') return ` Received function ${v.name}`;
    if (typeof v === 'object') {
      const name = v.constructor && v.constructor.name;
      return name ? ` Received an instance of ${name}` : ` Received ${inspect(v, { depth: -1 })}`;
    }
    if (typeof v !== 'string') return ` Received type ${typeof v} (${inspect(v, { colors: false })})`;
    // A string as node quotes it here: cut at 25 characters past 28, nothing escaped but
    // the quote, single quotes unless it holds one.
    const cut = v.length > 28 ? `${v.slice(0, 25)}...` : v;
    const quoted = cut.includes("'") ? `"${cut.replace(/"/g, '\\"')}"` : `'${cut}'`;
    return ` Received type string (${quoted})`;
  }
  function checkString(v, name) {
    if (typeof v === 'string') return;
    const e = new TypeError(`The "${name}" argument must be of type string.${receivedOf(v)}`);
    e.code = 'ERR_INVALID_ARG_TYPE';
    throw e;
  }
  // Resolves '.' and '..' segments of `p` (no leading slash handling); `rooted`: '..' above
  // the root is dropped rather than kept.
  function normalizeSegments(p, rooted) {
    const out = [];
    for (const seg of p.split('/')) {
      if (seg === '' || seg === '.') continue;
      if (seg === '..') {
        if (out.length && out[out.length - 1] !== '..') out.pop();
        else if (!rooted) out.push('..');
      } else {
        out.push(seg);
      }
    }
    return out.join('/');
  }
  // The last part of `p` (scanning back to index `from`), as node scans it: where it starts
  // and ends (trailing slashes left out; end -1: none), its last dot (-1: none) and what
  // precedes that dot within the part (0: nothing, 1: only dots, -1: something else).
  function scanLast(p, from) {
    let startPart = 0;
    let end = -1;
    let dot = -1;
    let beforeDot = 0;
    for (let i = p.length - 1; i >= from; --i) {
      const c = p[i];
      if (c === '/') {
        if (end !== -1) {
          startPart = i + 1;
          break;
        }
        continue;
      }
      if (end === -1) end = i + 1;
      if (c === '.') {
        if (dot === -1) dot = i;
        else if (beforeDot !== 1) beforeDot = 1;
      } else if (dot !== -1) {
        beforeDot = -1;
      }
    }
    return { startPart, end, dot, beforeDot };
  }
  // Whether a scanned part has an extension: a dot that is not its first character, and a
  // part that is not `..`.
  function hasExtension(startPart, end, dot, beforeDot) {
    return !(dot === -1 || end === -1 || beforeDot === 0 ||
      (beforeDot === 1 && dot === end - 1 && dot === startPart + 1));
  }
  const path = {
    sep: '/',
    delimiter: ':',
    resolve(...args) {
      let resolved = '';
      let absolute = false;
      for (let i = args.length - 1; i >= -1 && !absolute; i--) {
        const p = i >= 0 ? args[i] : '/';
        checkString(p, `paths[${i}]`);
        if (p.length === 0) continue;
        resolved = `${p}/${resolved}`;
        absolute = p[0] === '/';
      }
      const body = normalizeSegments(resolved, absolute);
      return absolute ? `/${body}` : body.length ? body : '.';
    },
    normalize(p) {
      checkString(p, 'path');
      if (p.length === 0) return '.';
      const absolute = p[0] === '/';
      const trailing = p[p.length - 1] === '/';
      let body = normalizeSegments(p, absolute);
      if (body.length === 0) {
        if (absolute) return '/';
        return trailing ? './' : '.';
      }
      if (trailing) body += '/';
      return absolute ? `/${body}` : body;
    },
    isAbsolute(p) {
      checkString(p, 'path');
      return p.length > 0 && p[0] === '/';
    },
    join(...args) {
      if (args.length === 0) return '.';
      const parts = [];
      for (const a of args) {
        checkString(a, 'path');
        if (a.length > 0) parts.push(a);
      }
      return parts.length === 0 ? '.' : path.normalize(parts.join('/'));
    },
    relative(from, to) {
      checkString(from, 'from');
      checkString(to, 'to');
      if (from === to) return '';
      from = path.resolve(from);
      to = path.resolve(to);
      if (from === to) return '';
      const a = from === '/' ? [] : from.slice(1).split('/');
      const b = to === '/' ? [] : to.slice(1).split('/');
      let i = 0;
      while (i < a.length && i < b.length && a[i] === b[i]) i++;
      return [...Array(a.length - i).fill('..'), ...b.slice(i)].join('/');
    },
    toNamespacedPath(p) {
      return p;
    },
    dirname(p) {
      checkString(p, 'path');
      if (p.length === 0) return '.';
      const absolute = p[0] === '/';
      let end = -1;
      let matchedSlash = true;
      for (let i = p.length - 1; i >= 1; --i) {
        if (p[i] === '/') {
          if (!matchedSlash) {
            end = i;
            break;
          }
        } else {
          matchedSlash = false;
        }
      }
      if (end === -1) return absolute ? '/' : '.';
      if (absolute && end === 1) return '//';
      return p.slice(0, end);
    },
    basename(p, suffix) {
      if (suffix !== undefined) checkString(suffix, 'suffix');
      checkString(p, 'path');
      if (suffix === undefined || suffix.length === 0 || suffix.length > p.length) {
        const { startPart, end } = scanLast(p, 0);
        return end === -1 ? '' : p.slice(startPart, end);
      }
      if (suffix === p) return '';
      // node's rule, kept for identical output: the suffix is matched from the end of the last
      // part; a mismatch keeps the whole part, and a suffix reaching past the part's start
      // (start === end) keeps it too.
      let start = 0;
      let end = -1;
      let partEnd = -1;
      let k = suffix.length - 1;
      for (let i = p.length - 1; i >= 0; --i) {
        if (p[i] === '/') {
          if (partEnd !== -1) {
            start = i + 1;
            break;
          }
          continue;
        }
        if (partEnd === -1) partEnd = i + 1;
        if (k >= 0) {
          if (p[i] === suffix[k]) {
            if (--k === -1) end = i;
          } else {
            k = -1;
            end = partEnd;
          }
        }
      }
      if (start === end) end = partEnd;
      else if (end === -1) end = p.length;
      return p.slice(start, end);
    },
    extname(p) {
      checkString(p, 'path');
      const { startPart, end, dot, beforeDot } = scanLast(p, 0);
      return hasExtension(startPart, end, dot, beforeDot) ? p.slice(dot, end) : '';
    },
    format(obj) {
      if (obj === null || typeof obj !== 'object' || Array.isArray(obj)) {
        const e = new TypeError(`The "pathObject" argument must be of type object.${receivedOf(obj)}`);
        e.code = 'ERR_INVALID_ARG_TYPE';
        throw e;
      }
      const dir = obj.dir || obj.root;
      let base = obj.base;
      if (!base) {
        const ext = obj.ext ? (obj.ext[0] === '.' ? '' : '.') + obj.ext : '';
        base = `${obj.name || ''}${ext}`;
      }
      if (!dir) return base;
      return dir === obj.root ? `${dir}${base}` : `${dir}/${base}`;
    },
    parse(p) {
      checkString(p, 'path');
      const out = { root: '', dir: '', base: '', ext: '', name: '' };
      if (p.length === 0) return out;
      const absolute = p[0] === '/';
      if (absolute) out.root = '/';
      const { startPart, end, dot, beforeDot } = scanLast(p, absolute ? 1 : 0);
      if (end !== -1) {
        const start = startPart === 0 && absolute ? 1 : startPart;
        out.base = p.slice(start, end);
        if (hasExtension(startPart, end, dot, beforeDot)) {
          out.name = p.slice(start, dot);
          out.ext = p.slice(dot, end);
        } else {
          out.name = out.base;
        }
      }
      if (startPart > 0) out.dir = p.slice(0, startPart - 1);
      else if (absolute) out.dir = '/';
      return out;
    },
  };
  path.posix = path;

  const builtinModules = {
    util: getUtil,
    'util/types': () => getUtil().types,
    events: () => EventEmitter,
    assert: () => assert,
    'assert/strict': () => assert,
    timers: () => ({ setTimeout, setInterval, setImmediate, clearTimeout, clearInterval, clearImmediate }),
    'timers/promises': () => ({
      setTimeout: (ms, value) => new Promise((resolve) => setTimeout(resolve, ms, value)),
      setImmediate: (value) => new Promise((resolve) => setImmediate(resolve, value)),
    }),
    buffer: () => ({ Buffer }),
    path: () => path,
    'path/posix': () => path,
    crypto: () => ({ getRandomValues, randomUUID, webcrypto: crypto, subtle, createHash, createHmac, getHashes,
      randomBytes: (n) => toBuffer(N.randomFill(new Uint8Array(n))),
      randomInt: (min, max) => {
        if (max === undefined) {
          max = min;
          min = 0;
        }
        const range = max - min;
        const buf = N.randomFill(new Uint32Array(2));
        return min + Math.floor(((buf[0] * 2 ** 32 + buf[1]) / 2 ** 64) * range);
      } }),
    process: () => N.process(),
    console: () => globalThis.console,
    // lib-node.js's modules, loaded with it on first use
    url: () => N.libNode().modules.url(),
    querystring: () => N.libNode().modules.querystring(),
    string_decoder: () => N.libNode().modules.string_decoder(),
    readline: () => N.libNode().modules.readline(),
    'readline/promises': () => N.libNode().modules['readline/promises'](),
    fs: () => N.libNode().modules.fs(),
    'fs/promises': () => N.libNode().modules['fs/promises'](),
    os: () => N.libNode().modules.os(),
  };


  function require(name) {
    let id = String(name);
    if (id.startsWith('node:')) id = id.slice(5);
    const f = hasOwn(builtinModules, id) ? builtinModules[id] : undefined;
    if (f) return f();
    const e = new Error(`Cannot find module '${name}'\nRequire stack:\n- /script.js`);
    e.code = 'MODULE_NOT_FOUND';
    e.requireStack = ['/script.js'];
    throw e;
  }

  return {
    console_dir,
    console_table,
    console_assert,
    console_count,
    console_countReset,
    console_time,
    console_timeEnd,
    console_timeLog,
    console_trace,
    require,
    structuredClone,
    number_toLocaleString,
    bigint_toLocaleString,
    string_localeCompare,
    globals: {
      TextEncoder,
      TextDecoder,
      Buffer,
      crypto,
      get URL() { return N.libNode().URL; },
      get URLSearchParams() { return N.libNode().URLSearchParams; },
    },
    // what lib-node.js builds on
    node: { utf8Encode, utf8Decode, toBuffer, Buffer, path, EventEmitter, normEncoding, bytesToString },
  };
});
