// Boolean query parameters as upstream's parameter codec converts them (runtime.Convert_Slice_string_To_bool):
// the API server and the kubelet read ?watch=, ?follow=, ?stdin= ... the same way.

/**
 * Absent → undefined; the first value "0" or "false" (any case) → false; anything else, even "" or "f", → true.
 * Looser than Go's strconv.ParseBool and never an error, so "True" (python's client) is true.
 */
export function queryBool(q: URLSearchParams, name: string): boolean | undefined {
  const v = q.getAll(name);
  if (v.length === 0) return undefined;
  const first = v[0]!;
  return !(first === "0" || first.toLowerCase() === "false");
}
