import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { promisify } from 'node:util';
import { startTestServer } from '../support/startTestServer.ts';

/**
 * cloud-init's EC2 datasource (Debian's cloud-init package, run by Debian's python3) crawls
 * the whole tree through imdsd, with IMDSv2 as it does on AWS.
 */
const run = promisify(execFile);
const SYSTEM_PYTHON = '/usr/bin/python3';
const CRAWL_SCRIPT = fileURLToPath(new URL('./cloudInitCrawl.py', import.meta.url));
const hasCloudInit =
  spawnSync(SYSTEM_PYTHON, ['-c', 'import cloudinit.sources.DataSourceEc2']).status === 0;

interface Crawled {
  api_version: string;
  'meta-data': Record<string, unknown>;
  'user-data': string;
  dynamic: { 'instance-identity': { document: Record<string, unknown> } };
}

describe(
  'cloud-init',
  { skip: hasCloudInit ? false : 'needs Debian cloud-init (apt-get install cloud-init)' },
  () => {
    for (const httpTokens of ['optional', 'required'] as const) {
      it(`crawls meta-data, user-data and the identity document with httpTokens ${httpTokens}`, async () => {
        const server = await startTestServer({
          instances: [
            {
              instanceId: 'i-0fffffffffffffff6',
              keyName: 'ops-key',
              iamRole: 'web-role',
              publicIp: '203.0.113.10',
              userData: '#cloud-config\nruncmd: [echo hi]\n',
              metadataOptions: { httpTokens, instanceMetadataTags: 'enabled' },
              tags: { Name: 'web' },
            },
          ],
          roles: { 'web-role': { source: 'minted' } },
        });
        try {
          const { stdout } = await run(SYSTEM_PYTHON, [CRAWL_SCRIPT, server.baseUrl], {
            timeout: 30_000,
          });
          const crawled = JSON.parse(stdout) as Crawled;
          const metaData = crawled['meta-data'];

          assert.equal(
            crawled.api_version,
            '2021-03-23',
            'cloud-init found its preferred metadata version',
          );
          assert.equal(metaData['instance-id'], 'i-0fffffffffffffff6');
          assert.equal(metaData['public-ipv4'], '203.0.113.10');
          assert.deepEqual(Object.keys(metaData['public-keys'] as object), ['ops-key']);
          assert.deepEqual((metaData['tags'] as { instance: unknown }).instance, { Name: 'web' });
          assert.equal(
            (metaData['placement'] as Record<string, unknown>)['availability-zone'],
            'us-east-1a',
          );
          assert.ok('network' in metaData, 'the interfaces tree was crawled');
          assert.equal(crawled['user-data'], '#cloud-config\nruncmd: [echo hi]\n');
          assert.equal(
            crawled.dynamic['instance-identity'].document['instanceId'],
            'i-0fffffffffffffff6',
          );
        } finally {
          await server.close();
        }
      });
    }
  },
);
