import { request as httpRequest } from 'node:http';

export interface RawResponse {
  status: number;
  /** Header names as sent, in order, with their values. */
  rawHeaders: Array<[string, string]>;
  headers: Record<string, string>;
  body: Buffer;
  text: string;
}

export interface RawRequest {
  method?: string;
  path: string;
  headers?: Record<string, string>;
  body?: string;
}

/** One request on a fresh connection, the way IMDS clients talk to it. */
export function send(
  baseUrl: string,
  { method = 'GET', path, headers = {}, body }: RawRequest,
): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const url = new URL(baseUrl);
    const request = httpRequest(
      {
        host: url.hostname.replace(/^\[|\]$/g, ''),
        port: url.port,
        method,
        path,
        headers,
        agent: false,
      },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () => {
          const rawHeaders: Array<[string, string]> = [];
          for (let index = 0; index < response.rawHeaders.length; index += 2) {
            rawHeaders.push([response.rawHeaders[index]!, response.rawHeaders[index + 1]!]);
          }
          const bodyBytes = Buffer.concat(chunks);
          resolve({
            status: response.statusCode ?? 0,
            rawHeaders,
            headers: Object.fromEntries(
              rawHeaders.map(([name, value]) => [name.toLowerCase(), value]),
            ),
            body: bodyBytes,
            text: bodyBytes.toString('utf8'),
          });
        });
        response.on('error', reject);
      },
    );
    request.on('error', reject);
    request.end(body);
  });
}

export async function fetchToken(baseUrl: string, ttlSeconds = 21600): Promise<string> {
  const response = await send(baseUrl, {
    method: 'PUT',
    path: '/latest/api/token',
    headers: { 'X-aws-ec2-metadata-token-ttl-seconds': String(ttlSeconds) },
  });
  if (response.status !== 200) throw new Error(`token PUT answered ${response.status}`);
  return response.text;
}
