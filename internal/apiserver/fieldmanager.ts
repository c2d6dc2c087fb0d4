// The fieldManager query parameter, validated as upstream's ValidateFieldManager (apimachinery
// metav1/validation): at most 128 bytes, printable characters only; errors are 422 Invalid on the options kind.
import { StatusError } from "../api/status.ts";
import type { OptionsKind } from "./queryopts.ts";

const MAX_LENGTH = 128;
// Go's unicode.IsPrint: letters, marks, numbers, punctuation, symbols and the ASCII space.
const PRINTABLE = /^[\p{L}\p{M}\p{N}\p{P}\p{S} ]$/u;

/** Throws upstream's 422 for a fieldManager that is too long or has a non-printable character. */
export function validateFieldManager(fieldManager: string, kind: OptionsKind): void {
  const causes: { reason: string; message: string; field: string }[] = [];
  if (Buffer.byteLength(fieldManager) > MAX_LENGTH) {
    causes.push({ reason: "FieldValueTooLong", message: `Too long: may not be more than ${MAX_LENGTH} bytes`, field: "fieldManager" });
  }
  let pos = 0; // byte offset, as Go's range over a string reports it
  for (const ch of fieldManager) {
    const cp = ch.codePointAt(0)!;
    if (!PRINTABLE.test(ch)) {
      const msg = `Invalid value: ${goQuote(fieldManager)}: invalid character ${goRune(cp)} (at position ${pos})`;
      causes.push({ reason: "FieldValueInvalid", message: msg, field: "fieldManager" });
    }
    pos += Buffer.byteLength(ch);
  }
  if (causes.length === 0) return;
  const list = causes.map((c) => `${c.field}: ${c.message}`);
  const summary = list.length === 1 ? list[0] : `[${list.join(", ")}]`;
  throw new StatusError(422, "Invalid", `${kind}.meta.k8s.io "" is invalid: ${summary}`, { group: "meta.k8s.io", kind, causes });
}

/** Go's %#U of a non-printable rune: U+0001. */
function goRune(cp: number): string {
  return `U+${cp.toString(16).toUpperCase().padStart(4, "0")}`;
}

/** Go's %q (strconv.Quote) of a string. */
export function goQuote(s: string): string {
  let out = '"';
  for (const ch of s) {
    const cp = ch.codePointAt(0)!;
    if (ch === '"' || ch === "\\") out += `\\${ch}`;
    else if (PRINTABLE.test(ch)) out += ch;
    else if (ch === "\x07") out += "\\a";
    else if (ch === "\b") out += "\\b";
    else if (ch === "\f") out += "\\f";
    else if (ch === "\n") out += "\\n";
    else if (ch === "\r") out += "\\r";
    else if (ch === "\t") out += "\\t";
    else if (ch === "\v") out += "\\v";
    else if (cp < 0x80) out += `\\x${cp.toString(16).padStart(2, "0")}`;
    else if (cp < 0x10000) out += `\\u${cp.toString(16).padStart(4, "0")}`;
    else out += `\\U${cp.toString(16).padStart(8, "0")}`;
  }
  return `${out}"`;
}
