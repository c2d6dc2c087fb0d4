// Duplicate keys in a JSON request body, for fieldValidation=Strict/Warn. JSON.parse silently keeps the
// last value, so the raw text is scanned. Hand-written on purpose: a tokenizer that only tracks object
// keys and array indices is smaller than pulling in a streaming JSON parser.

/** Paths of duplicated object keys ("metadata.name", "spec.containers[0].image"), in document order. */
export function duplicateFields(text: string): string[] {
  const out: string[] = [];
  // One frame per open object/array: the keys seen (objects) or the next index (arrays).
  type Frame = { path: string; keys?: Set<string>; index?: number; key?: string };
  const stack: Frame[] = [];
  let i = 0;
  const n = text.length;

  const readString = (): string => {
    // i is at the opening quote.
    let j = i + 1;
    let s = "";
    while (j < n && text[j] !== '"') {
      if (text[j] === "\\") {
        s += text.slice(j, j + 2);
        j += 2;
      } else s += text[j++];
    }
    i = j + 1;
    try {
      return JSON.parse(`"${s}"`);
    } catch {
      return s;
    }
  };
  /** Path of the value about to start inside the top frame. */
  const valuePath = (): string => {
    const top = stack[stack.length - 1];
    if (!top) return "";
    if (top.keys) return top.path ? `${top.path}.${top.key}` : top.key!;
    return `${top.path}[${top.index}]`;
  };
  const afterValue = () => {
    const top = stack[stack.length - 1];
    if (top && !top.keys) top.index!++;
  };

  while (i < n) {
    const ch = text[i]!;
    if (ch === "{" || ch === "[") {
      const path = valuePath();
      stack.push(ch === "{" ? { path, keys: new Set() } : { path, index: 0 });
      i++;
    } else if (ch === "}" || ch === "]") {
      stack.pop();
      i++;
      afterValue();
    } else if (ch === '"') {
      const top = stack[stack.length - 1];
      const s = readString();
      // A string in key position is followed by ':'.
      let j = i;
      while (j < n && /\s/.test(text[j]!)) j++;
      if (top?.keys && text[j] === ":") {
        if (top.keys.has(s)) out.push(top.path ? `${top.path}.${s}` : s);
        top.keys.add(s);
        top.key = s;
        i = j + 1;
      } else afterValue();
    } else if (ch === "," || ch === ":" || /\s/.test(ch)) {
      i++;
    } else {
      // Number, true, false, null.
      while (i < n && !/[,\]}\s]/.test(text[i]!)) i++;
      afterValue();
    }
  }
  return out;
}
