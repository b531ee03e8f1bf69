import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { serveCli, type ServingCli } from '../support/cli.ts';
import {
  errorCode,
  generateAdministratorKeys,
  sendEc2Request,
  xmlText,
} from '../support/ec2Requests.ts';
import { send } from '../support/rawHttp.ts';

/**
 * Metadata options changed through the control API live in the state store: they survive a
 * restart of `imdsd serve`, yield to an operator's later edit of the config, and a process
 * killed with SIGKILL in the middle of a stream of changes leaves a readable store holding
 * the last acknowledged change (or the one in flight).
 */

const directory = mkdtempSync(join(tmpdir(), 'imdsd-durable-'));
after(() => rmSync(directory, { recursive: true, force: true }));

const administrator = generateAdministratorKeys();
const keysEnv = {
  IMDSD_API_ACCESS_KEY_ID: administrator.accessKeyId,
  IMDSD_API_SECRET_ACCESS_KEY: administrator.secretAccessKey,
};
const INSTANCE = 'i-0aaaaaaaaaaaaaaa1';

interface Running {
  serving: ServingCli;
  imdsUrl: string;
  apiUrl: string;
}

async function serve(statePath: string, configPath: string): Promise<Running> {
  const serving = await serveCli(
    [
      '--config',
      configPath,
      '--state',
      statePath,
      '--listen',
      '127.0.0.1:0',
      '--log-level',
      'warn',
    ],
    keysEnv,
  );
  for (let attempt = 0; attempt < 500; attempt++) {
    const match = /^AWS_ENDPOINT_URL_EC2=(\S+)$/m.exec(serving.stderr());
    if (match) return { serving, imdsUrl: serving.endpoint.replace(/\/$/, ''), apiUrl: match[1]! };
    await sleep(10);
  }
  serving.child.kill('SIGKILL');
  throw new Error(`imdsd serve printed no AWS_ENDPOINT_URL_EC2 line:\n${serving.stderr()}`);
}

function configWithHopLimit(name: string, hopLimit: number): string {
  const path = join(directory, name);
  writeFileSync(
    path,
    `instances:\n  - instanceId: ${INSTANCE}\n    metadataOptions: { httpPutResponseHopLimit: ${hopLimit} }\n`,
  );
  return path;
}

function modify(apiUrl: string, parameters: Record<string, string>) {
  return sendEc2Request(
    apiUrl,
    { Action: 'ModifyInstanceMetadataOptions', InstanceId: INSTANCE, ...parameters },
    administrator,
  );
}

async function describedHopLimit(apiUrl: string): Promise<number> {
  const response = await sendEc2Request(
    apiUrl,
    { Action: 'DescribeInstances', 'InstanceId.1': INSTANCE },
    administrator,
  );
  assert.equal(response.status, 200, response.text);
  return Number(xmlText(response.text, 'httpPutResponseHopLimit'));
}

describe('metadata options in the state store', () => {
  it('survive a restart of imdsd serve, and IMDS enforces them at once', async () => {
    const statePath = join(directory, 'restart.db');
    const config = configWithHopLimit('restart.yaml', 1);

    const first = await serve(statePath, config);
    try {
      const response = await modify(first.apiUrl, {
        HttpTokens: 'required',
        HttpPutResponseHopLimit: '5',
      });
      assert.equal(response.status, 200, response.text);
    } finally {
      assert.equal(await first.serving.stop(), 0);
    }

    const second = await serve(statePath, config);
    try {
      assert.equal(await describedHopLimit(second.apiUrl), 5);
      assert.equal(
        (await send(second.imdsUrl, { path: '/latest/meta-data/instance-id' })).status,
        401,
        'tokens stay required',
      );
    } finally {
      await second.serving.stop();
    }
  });

  it('yield to the config when the operator edited its options since', async () => {
    const statePath = join(directory, 'edited.db');
    const first = await serve(statePath, configWithHopLimit('edited.yaml', 1));
    try {
      assert.equal((await modify(first.apiUrl, { HttpPutResponseHopLimit: '4' })).status, 200);
    } finally {
      await first.serving.stop();
    }

    const unchanged = await serve(statePath, configWithHopLimit('edited.yaml', 1));
    try {
      assert.equal(
        await describedHopLimit(unchanged.apiUrl),
        4,
        'the same config keeps the API change',
      );
    } finally {
      await unchanged.serving.stop();
    }

    const edited = await serve(statePath, configWithHopLimit('edited.yaml', 2));
    try {
      assert.equal(await describedHopLimit(edited.apiUrl), 2, 'the edited config wins');
    } finally {
      await edited.serving.stop();
    }
  });

  it('hold the last acknowledged change (or the one in flight) after SIGKILL during a stream of changes', async () => {
    const statePath = join(directory, 'killed.db');
    const config = configWithHopLimit('killed.yaml', 1);
    let counter = 0;
    const ROUNDS = 3;

    for (let round = 0; round < ROUNDS; round++) {
      const running = await serve(statePath, config);
      const acknowledgements = 3 + Math.floor(Math.random() * 25);
      let lastAcknowledged: number | undefined;
      let inFlight: number | undefined;
      let pending: Promise<unknown> | undefined;
      try {
        for (let sent = 0; sent < acknowledgements; sent++) {
          const value = (counter++ % 64) + 1;
          const response = await modify(running.apiUrl, { HttpPutResponseHopLimit: String(value) });
          assert.equal(response.status, 200, errorCode(response));
          lastAcknowledged = value;
        }

        inFlight = (counter++ % 64) + 1;
        pending = modify(running.apiUrl, { HttpPutResponseHopLimit: String(inFlight) }).catch(
          () => undefined,
        );
        await sleep(Math.floor(Math.random() * 3));
      } finally {
        running.serving.child.kill('SIGKILL');
      }
      await running.serving.stop();
      await pending;

      assert.equal(
        integrityOf(statePath),
        'ok',
        `round ${round}: the store is readable after SIGKILL`,
      );
      const restarted = await serve(statePath, config);
      try {
        const restored = await describedHopLimit(restarted.apiUrl);
        assert.ok(
          restored === lastAcknowledged || restored === inFlight,
          `round ${round}: restored ${restored}, acknowledged ${lastAcknowledged}, in flight ${inFlight}`,
        );
      } finally {
        await restarted.serving.stop();
      }
    }
  });
});

function integrityOf(path: string): string {
  const database = new Database(path);
  try {
    return database.pragma('integrity_check', { simple: true }) as string;
  } finally {
    database.close();
  }
}
