import { request } from 'node:http';
import { Writable } from 'node:stream';
import { configSchema } from '../../src/config/schema.ts';
import { withDefaultInstance } from '../../src/config/defaults.ts';
import type { ListenerLimits } from '../../src/imds/imdsListener.ts';
import { createLogger } from '../../src/log.ts';
import { startImdsd, type RunningImdsd } from '../../src/serve/startImdsd.ts';

/**
 * An imdsd on 127.0.0.1 port 0 with every log line captured (level trace, so nothing is held
 * back), and a record of every secret it handed out: session tokens and role credentials. A
 * hostile test ends by checking that none of them shows in a log line or a hostile answer.
 */
export interface HostileServer {
  running: RunningImdsd;
  port: number;
  logLines: string[];
  secrets: string[];
  /** A well-formed IMDSv2 client: token PUT then credentials GET; the answers are recorded as secrets. */
  fetchCredentials(): Promise<{ status: number; body: string }>;
  /** A well-formed IMDSv1 GET of instance-id. */
  instanceId(): Promise<{ status: number; body: string }>;
  close(): Promise<void>;
}

export const ROLE_NAME = 'imdsd-instance-role';

export async function startHostileServer(
  limits: Partial<ListenerLimits> = {},
): Promise<HostileServer> {
  const logLines: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      logLines.push(chunk.toString());
      done();
    },
  });
  const config = configSchema.parse(
    withDefaultInstance({ listen: ['127.0.0.1:0'], apiListen: '127.0.0.1:0', state: ':memory:' }),
  );
  const running = await startImdsd({
    config,
    logger: createLogger({ level: 'trace', destination }),
    listenerLimits: limits,
  });
  const port = running.imdsAddresses[0]?.port as number;
  const secrets: string[] = [];

  const fetchCredentials = async (): Promise<{ status: number; body: string }> => {
    const token = await httpCall(port, 'PUT', '/latest/api/token', {
      'X-aws-ec2-metadata-token-ttl-seconds': '60',
    });
    secrets.push(token.body);
    const credentials = await httpCall(
      port,
      'GET',
      `/latest/meta-data/iam/security-credentials/${ROLE_NAME}`,
      {
        'X-aws-ec2-metadata-token': token.body,
      },
    );
    if (credentials.status === 200) {
      const document = JSON.parse(credentials.body) as { SecretAccessKey: string; Token: string };
      secrets.push(document.SecretAccessKey, document.Token);
    }
    return credentials;
  };

  return {
    running,
    port,
    logLines,
    secrets,
    fetchCredentials,
    instanceId: () => httpCall(port, 'GET', '/latest/meta-data/instance-id', {}),
    close: () => running.close(),
  };
}

/** One request on a new connection with node:http, answered in full. */
export function httpCall(
  port: number,
  method: string,
  path: string,
  headers: Record<string, string>,
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const outgoing = request(
      { host: '127.0.0.1', port, method, path, headers, agent: false },
      (response) => {
        let body = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => (body += chunk));
        response.once('end', () => resolve({ status: response.statusCode ?? 0, body }));
      },
    );
    outgoing.setTimeout(2_000, () =>
      outgoing.destroy(new Error(`${method} ${path}: no answer within 2 s`)),
    );
    outgoing.once('error', reject);
    outgoing.end();
  });
}

/** The secrets among `texts`, for an assertion message that says which leaked (shortened). */
export function leakedSecrets(secrets: readonly string[], texts: readonly string[]): string[] {
  return secrets
    .filter((secret) => texts.some((text) => text.includes(secret)))
    .map((secret) => `${secret.slice(0, 8)}…`);
}
