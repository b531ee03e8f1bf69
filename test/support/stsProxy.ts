import {
  createServer,
  request as httpRequest,
  type IncomingMessage,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo } from 'node:net';

/** What the proxy does with the next STS request. */
export type StsProxyMode =
  | { kind: 'forward' }
  /** Holds requests until release(), then forwards them: a slow STS. */
  | { kind: 'hold' }
  /** Drops the connection without an answer: STS unreachable. */
  | { kind: 'refuse' }
  /** Answers an STS error document itself, as STS does (Query protocol). */
  | { kind: 'error'; status: number; code: string; message: string };

export interface AssumeRoleCall {
  roleArn: string | null;
  roleSessionName: string | null;
  /** The access key id in the request's SigV4 credential scope. */
  signedBy: string | undefined;
  /** The access key id STS answered with, when the call was forwarded and succeeded. */
  answeredAccessKeyId?: string;
}

export interface StsProxy {
  endpoint: string;
  mode: StsProxyMode;
  /** Every AssumeRole request that reached the proxy, whatever the mode did with it. */
  readonly assumeRoleCalls: AssumeRoleCall[];
  release(): void;
  close(): Promise<void>;
}

/**
 * A small HTTP proxy on loopback between imdsd and moto that counts AssumeRole calls at the
 * STS side and can make STS slow, unreachable or answer an error.
 */
export async function startStsProxy(upstream: string): Promise<StsProxy> {
  const upstreamUrl = new URL(upstream);
  const held: Array<() => void> = [];
  const proxy: StsProxy = {
    endpoint: '',
    mode: { kind: 'forward' },
    assumeRoleCalls: [],
    release() {
      proxy.mode = { kind: 'forward' };
      held.splice(0).forEach((forward) => forward());
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };

  const server = createServer(async (request, response) => {
    const body = await readBody(request);
    const params = new URLSearchParams(body.toString());
    const call =
      params.get('Action') === 'AssumeRole' ? recordCall(proxy, request, params) : undefined;
    const forward = (): void => forwardTo(upstreamUrl, request, body, response, call);

    const mode = proxy.mode;
    switch (mode.kind) {
      case 'forward':
        return forward();
      case 'hold':
        held.push(forward);
        return;
      case 'refuse':
        request.socket.destroy();
        return;
      case 'error':
        response.writeHead(mode.status, { 'Content-Type': 'text/xml' });
        response.end(stsErrorDocument(mode.code, mode.message));
    }
  });

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  proxy.endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return proxy;
}

function recordCall(
  proxy: StsProxy,
  request: IncomingMessage,
  params: URLSearchParams,
): AssumeRoleCall {
  const authorization = request.headers.authorization ?? '';
  const call: AssumeRoleCall = {
    roleArn: params.get('RoleArn'),
    roleSessionName: params.get('RoleSessionName'),
    signedBy: /Credential=([^/]+)\//.exec(authorization)?.[1],
  };
  proxy.assumeRoleCalls.push(call);
  return call;
}

function forwardTo(
  upstream: URL,
  request: IncomingMessage,
  body: Buffer,
  response: ServerResponse,
  call: AssumeRoleCall | undefined,
): void {
  const outgoing = httpRequest(
    {
      host: upstream.hostname,
      port: upstream.port,
      method: request.method,
      path: request.url,
      headers: request.headers,
    },
    async (answer) => {
      const answerBody = await readBody(answer);
      if (call !== undefined) {
        const accessKeyId = /<AccessKeyId>([^<]+)<\/AccessKeyId>/.exec(answerBody.toString())?.[1];
        if (accessKeyId !== undefined) call.answeredAccessKeyId = accessKeyId;
      }
      response.writeHead(answer.statusCode ?? 502, answer.headers);
      response.end(answerBody);
    },
  );
  outgoing.on('error', () => request.socket.destroy());
  outgoing.end(body);
}

function stsErrorDocument(code: string, message: string): string {
  return (
    '<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">' +
    `<Error><Type>Sender</Type><Code>${code}</Code><Message>${message}</Message></Error>` +
    '<RequestId>4c0f0d57-7a86-4a0e-9d23-2f6a3f8d1f00</RequestId></ErrorResponse>'
  );
}

async function readBody(stream: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}
