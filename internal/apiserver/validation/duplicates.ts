// Duplicate keys in a JSON request body, for fieldValidation=Strict/Warn. JSON.parse silently keeps the
// last value, so the raw text is scanned. Hand-written on purpose: a tokenizer that only tracks object
// keys and array indices is smaller than pulling in a streaming JSON parser. It runs on every write, so it
// works on char codes, slices strings without copying them char by char, and prints a path only for a duplicate.

/** /\s/ without a regular expression for the ASCII cases. */
function isSpace(text: string, c: number, i: number): boolean {
  return c === 32 || (c >= 9 && c <= 13) || (c > 127 && /\s/.test(text[i]!));
}

/** Paths of duplicated object keys ("metadata.name", "spec.containers[0].image"), in document order. */
export function duplicateFields(text: string): string[] {
  const out: string[] = [];
  // One frame per open object/array: the keys seen (objects; null for arrays) and the current key or next index.
  const keys: (Set<string> | null)[] = [];
  const at: (string | number)[] = [];
  let i = 0;
  const n = text.length;

  const readString = (): string => {
    // i is at the opening quote.
    let j = i + 1;
    let escaped = false;
    for (;;) {
      const c = text.charCodeAt(j);
      if (j >= n || c === 34) break;
      if (c === 92) {
        escaped = true;
        j += 2;
      } else j++;
    }
    const s = text.slice(i + 1, Math.min(j, n));
    i = j + 1;
    if (!escaped) return s;
    try {
      return JSON.parse(`"${s}"`);
    } catch {
      return s;
    }
  };
  /** Path of the innermost open object. */
  const topPath = (): string => {
    let p = "";
    for (let d = 0; d < at.length - 1; d++) p = keys[d] ? (p ? `${p}.${at[d]}` : String(at[d])) : `${p}[${at[d]}]`;
    return p;
  };
  const afterValue = () => {
    const d = at.length - 1;
    if (d >= 0 && !keys[d]) at[d] = (at[d] as number) + 1;
  };

  while (i < n) {
    const c = text.charCodeAt(i);
    if (c === 123 || c === 91) {
      // { or [
      keys.push(c === 123 ? new Set() : null);
      at.push(c === 123 ? "" : 0);
      i++;
    } else if (c === 125 || c === 93) {
      // } or ]
      keys.pop();
      at.pop();
      i++;
      afterValue();
    } else if (c === 34) {
      const top = keys.length ? keys[keys.length - 1] : undefined;
      const s = readString();
      // A string in key position is followed by ':'.
      let j = i;
      while (j < n && isSpace(text, text.charCodeAt(j), j)) j++;
      if (top && text.charCodeAt(j) === 58) {
        if (top.has(s)) {
          const p = topPath();
          out.push(p ? `${p}.${s}` : s);
        }
        top.add(s);
        at[at.length - 1] = s;
        i = j + 1;
      } else afterValue();
    } else if (c === 44 || c === 58 || isSpace(text, c, i)) {
      i++;
    } else {
      // Number, true, false, null.
      while (i < n) {
        const d = text.charCodeAt(i);
        if (d === 44 || d === 93 || d === 125 || isSpace(text, d, i)) break;
        i++;
      }
      afterValue();
    }
  }
  return out;
}
