// Reading an API response in tests: its status, headers, body text and the body as JSON where it is JSON
// (error pages, empty bodies and plain-text answers leave json undefined).
export interface ReadResponse {
  status: number;
  headers: Headers;
  text: string;
  json: any;
}

export async function readResponse(res: Response): Promise<ReadResponse> {
  const text = await res.text();
  let json: any;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, headers: res.headers, text, json };
}
