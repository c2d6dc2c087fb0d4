// Go encoding/json's syntax error texts, which upstream puts in its 400s for bodies that are not JSON
// ("invalid character 'a' looking for beginning of value"). JSON.parse's own messages differ; no npm package
// reproduces Go's, so this is a small checker following Go's scanner states.

/** Go's quoteChar: 'a', '\'', '"', '\n'. */
function quoteChar(c: string): string {
  if (c === "'") return `'\\''`;
  if (c === '"') return `'"'`;
  const q = JSON.stringify(c);
  return `'${q.slice(1, -1)}'`;
}

class GoSyntaxError extends Error {}

/** The message Go's json.Unmarshal gives for malformed input, or undefined when the text is valid JSON. */
export function goJSONSyntaxError(text: string): string | undefined {
  let i = 0;
  const n = text.length;
  const ws = () => {
    while (i < n && (text[i] === " " || text[i] === "\t" || text[i] === "\n" || text[i] === "\r")) i++;
  };
  const fail = (context: string): never => {
    if (i >= n) throw new GoSyntaxError("unexpected end of JSON input");
    throw new GoSyntaxError(`invalid character ${quoteChar(text[i]!)} ${context}`);
  };
  const literal = (word: string) => {
    for (let k = 0; k < word.length; k++, i++) {
      if (text[i] !== word[k]) fail(`in literal ${word} (expecting ${quoteChar(word[k]!)})`);
    }
  };
  const digits = () => {
    while (i < n && text[i]! >= "0" && text[i]! <= "9") i++;
  };
  const number = () => {
    if (text[i] === "-") {
      i++;
      if (!(i < n && text[i]! >= "0" && text[i]! <= "9")) fail("in numeric literal");
    }
    if (text[i] === "0") i++;
    else digits();
    if (text[i] === ".") {
      i++;
      if (!(i < n && text[i]! >= "0" && text[i]! <= "9")) fail("after decimal point in numeric literal");
      digits();
    }
    if (text[i] === "e" || text[i] === "E") {
      i++;
      if (text[i] === "+" || text[i] === "-") i++;
      if (!(i < n && text[i]! >= "0" && text[i]! <= "9")) fail("in exponent of numeric literal");
      digits();
    }
  };
  const string = () => {
    i++; // opening quote
    for (;;) {
      if (i >= n) fail("");
      const c = text[i]!;
      if (c === '"') {
        i++;
        return;
      }
      if (c < " ") fail("in string literal");
      if (c === "\\") {
        i++;
        const e = text[i];
        if (e === "u") {
          i++;
          for (let k = 0; k < 4; k++, i++) if (!/[0-9a-fA-F]/.test(text[i] ?? "")) fail("in \\u hexadecimal character escape");
          continue;
        }
        if (e === undefined || !'"\\/bfnrt'.includes(e)) fail("in string escape code");
      }
      i++;
    }
  };
  const value = (depth: number): void => {
    if (depth > 10000) throw new GoSyntaxError("exceeded max depth");
    ws();
    const c = text[i];
    if (c === "{") {
      i++;
      ws();
      if (text[i] === "}") return void i++;
      for (;;) {
        ws();
        if (text[i] !== '"') fail("looking for beginning of object key string");
        string();
        ws();
        if (text[i] !== ":") fail("after object key");
        i++;
        value(depth + 1);
        ws();
        if (text[i] === ",") {
          i++;
          continue;
        }
        if (text[i] === "}") return void i++;
        fail("after object key:value pair");
      }
    }
    if (c === "[") {
      i++;
      ws();
      if (text[i] === "]") return void i++;
      for (;;) {
        value(depth + 1);
        ws();
        if (text[i] === ",") {
          i++;
          continue;
        }
        if (text[i] === "]") return void i++;
        fail("after array element");
      }
    }
    if (c === '"') return string();
    if (c === "-" || (c !== undefined && c >= "0" && c <= "9")) return number();
    if (c === "t") return literal("true");
    if (c === "f") return literal("false");
    if (c === "n") return literal("null");
    fail("looking for beginning of value");
  };
  try {
    value(0);
    ws();
    if (i < n) fail("after top-level value");
    return undefined;
  } catch (e) {
    if (e instanceof GoSyntaxError) return e.message;
    throw e;
  }
}

/** Go's name for the JSON type of a value in "json: cannot unmarshal X into ..." errors. */
export function goJSONTypeName(v: unknown): string {
  if (Array.isArray(v)) return "array";
  if (v === null) return "null";
  if (typeof v === "boolean") return "bool";
  if (typeof v === "number") return "number";
  return typeof v === "object" ? "object" : "string";
}

/** Upstream's summarizeData: the first bytes of a body, as text when it looks like a JSON object, else hex. */
export function summarizeBody(bytes: Uint8Array, max = 30): string {
  if (bytes.length === 0) return "<empty>";
  const head = bytes.subarray(0, max);
  const more = bytes.length > max ? " ..." : "";
  if (bytes[0] === 0x7b) return new TextDecoder().decode(head) + more;
  return Buffer.from(head).toString("hex") + more;
}
