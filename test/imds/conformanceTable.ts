import type { ConfigInput } from '../../src/config/schema.ts';

/**
 * The IMDS protocol as data: one row per behaviour, with the request and what the real service
 * answers (reference: ../shared/reference/imds-behaviour.md, section in `source`). The same
 * table drives the loopback conformance test; each row names the server profile it needs.
 */

export type TokenKind = 'valid' | 'expired' | 'garbage' | 'tampered';

export interface ConformanceRow {
  behaviour: string;
  source: string;
  profile: keyof typeof PROFILES;
  request: { method?: string; path: string; headers?: Record<string, string>; token?: TokenKind };
  expect: {
    status: number;
    /** Exact header values; `null` means the header must be absent. */
    headers?: Record<string, string | RegExp | null>;
    body?: string | RegExp;
  };
}

const INSTANCE = {
  instanceId: 'i-0aaaaaaaaaaaaaaa1',
  keyName: 'dev-key',
  iamRole: 'app-role',
  tags: { Name: 'web', team: 'core' },
};
const ROLES = { 'app-role': { source: 'minted' as const } };

/** Server set-ups the rows run against. */
export const PROFILES = {
  optional: { instances: [INSTANCE], roles: ROLES },
  required: {
    instances: [{ ...INSTANCE, metadataOptions: { httpTokens: 'required' as const } }],
    roles: ROLES,
  },
  disabled: {
    instances: [{ ...INSTANCE, metadataOptions: { httpEndpoint: 'disabled' as const } }],
    roles: ROLES,
  },
  tags: {
    instances: [{ ...INSTANCE, metadataOptions: { instanceMetadataTags: 'enabled' as const } }],
    roles: ROLES,
  },
  bare: {
    instances: [{ instanceId: 'i-0bbbbbbbbbbbbbbb2', userData: '#!/bin/bash\necho hi' }],
    roles: {},
  },
} satisfies Record<string, ConfigInput>;

const TOKEN_PATH = '/latest/api/token';
const TTL = 'X-aws-ec2-metadata-token-ttl-seconds';
const INSTANCE_ID = '/latest/meta-data/instance-id';

export const XHTML_404 = [
  '<?xml version="1.0" encoding="iso-8859-1"?>',
  '<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Transitional//EN"',
  '         "http://www.w3.org/TR/xhtml1/DTD/xhtml1-transitional.dtd">',
  '<html xmlns="http://www.w3.org/1999/xhtml" xml:lang="en" lang="en">',
  ' <head>',
  '  <title>404 - Not Found</title>',
  ' </head>',
  ' <body>',
  '  <h1>404 - Not Found</h1>',
  ' </body>',
  '</html>',
  '',
].join('\n');

const EMPTY_FORBIDDEN = {
  status: 403,
  headers: { 'content-type': 'text/plain', 'content-length': '0' },
  body: '',
};
const NOT_FOUND = { status: 404, headers: { 'content-type': 'text/html' }, body: XHTML_404 };

export const CONFORMANCE: ConformanceRow[] = [
  // §1 Token endpoint
  {
    behaviour: 'a token PUT returns a 56-character token and echoes the TTL',
    source: '§1 (capture C1)',
    profile: 'optional',
    request: { method: 'PUT', path: TOKEN_PATH, headers: { [TTL]: '21600' } },
    expect: {
      status: 200,
      headers: {
        'x-aws-ec2-metadata-token-ttl-seconds': '21600',
        'content-type': 'text/plain',
        'content-length': '56',
        server: 'EC2ws',
        connection: 'close',
      },
      body: /^AQAEA[A-Za-z0-9_-]{49}==$/,
    },
  },
  {
    behaviour: 'the shortest TTL, 1 second, is accepted',
    source: '§1',
    profile: 'optional',
    request: { method: 'PUT', path: TOKEN_PATH, headers: { [TTL]: '1' } },
    expect: { status: 200, headers: { 'x-aws-ec2-metadata-token-ttl-seconds': '1' } },
  },
  {
    behaviour: 'a token PUT without a TTL is a bad request',
    source: '§1',
    profile: 'optional',
    request: { method: 'PUT', path: TOKEN_PATH },
    expect: { status: 400 },
  },
  {
    behaviour: 'a TTL of 0 is a bad request',
    source: '§1',
    profile: 'optional',
    request: { method: 'PUT', path: TOKEN_PATH, headers: { [TTL]: '0' } },
    expect: { status: 400 },
  },
  {
    behaviour: 'a TTL above 21600 is a bad request',
    source: '§1 (I22)',
    profile: 'optional',
    request: { method: 'PUT', path: TOKEN_PATH, headers: { [TTL]: '21601' } },
    expect: { status: 400 },
  },
  {
    behaviour: 'a negative TTL is a bad request',
    source: '§1',
    profile: 'optional',
    request: { method: 'PUT', path: TOKEN_PATH, headers: { [TTL]: '-1' } },
    expect: { status: 400 },
  },
  {
    behaviour: 'a non-numeric TTL is a bad request',
    source: '§1 (inferred)',
    profile: 'optional',
    request: { method: 'PUT', path: TOKEN_PATH, headers: { [TTL]: 'ten' } },
    expect: { status: 400 },
  },
  {
    behaviour: 'a fractional TTL is a bad request',
    source: '§1 (inferred)',
    profile: 'optional',
    request: { method: 'PUT', path: TOKEN_PATH, headers: { [TTL]: '1.5' } },
    expect: { status: 400 },
  },
  {
    behaviour: 'GET on the token path is not allowed',
    source: '§1 (capture C7)',
    profile: 'optional',
    request: { path: TOKEN_PATH },
    expect: {
      status: 405,
      headers: { allow: 'OPTIONS, PUT', 'content-length': '0', 'content-type': 'text/plain' },
    },
  },
  {
    behaviour: 'POST on the token path is not allowed',
    source: '§1',
    profile: 'optional',
    request: { method: 'POST', path: TOKEN_PATH, headers: { [TTL]: '60' } },
    expect: { status: 405, headers: { allow: 'OPTIONS, PUT' } },
  },
  {
    behaviour: 'DELETE on the token path is not allowed',
    source: '§1',
    profile: 'optional',
    request: { method: 'DELETE', path: TOKEN_PATH },
    expect: { status: 405, headers: { allow: 'OPTIONS, PUT' } },
  },
  {
    behaviour: 'OPTIONS on the token path lists the allowed methods',
    source: '§1 (capture C8)',
    profile: 'optional',
    request: { method: 'OPTIONS', path: TOKEN_PATH },
    expect: { status: 200, headers: { allow: 'OPTIONS, PUT', 'content-length': '0' } },
  },
  {
    behaviour: 'a token PUT carrying X-Forwarded-For is forbidden',
    source: '§1 (I5, I6)',
    profile: 'optional',
    request: {
      method: 'PUT',
      path: TOKEN_PATH,
      headers: { [TTL]: '60', 'X-Forwarded-For': '10.0.0.5' },
    },
    expect: EMPTY_FORBIDDEN,
  },
  {
    behaviour: 'a token PUT on a versioned path is forbidden',
    source: '§1',
    profile: 'optional',
    request: { method: 'PUT', path: '/2021-03-23/api/token', headers: { [TTL]: '60' } },
    expect: EMPTY_FORBIDDEN,
  },

  // §2, §3 IMDSv1 and IMDSv2
  {
    behaviour: 'optional: a GET without a token is answered as IMDSv1, without the TTL header',
    source: '§3',
    profile: 'optional',
    request: { path: INSTANCE_ID },
    expect: {
      status: 200,
      body: 'i-0aaaaaaaaaaaaaaa1',
      headers: { 'x-aws-ec2-metadata-token-ttl-seconds': null },
    },
  },
  {
    behaviour: 'optional: a GET with a valid token carries the TTL header',
    source: '§2 (C2, C3)',
    profile: 'optional',
    request: { path: INSTANCE_ID, token: 'valid' },
    expect: {
      status: 200,
      body: 'i-0aaaaaaaaaaaaaaa1',
      headers: { 'x-aws-ec2-metadata-token-ttl-seconds': /^(21599|21600)$/ },
    },
  },
  {
    behaviour: 'optional: a garbage token is unauthorized',
    source: '§2 (decision: SDKs rely on 401)',
    profile: 'optional',
    request: { path: INSTANCE_ID, token: 'garbage' },
    expect: { status: 401 },
  },
  {
    behaviour: 'optional: a tampered token is unauthorized',
    source: '§2',
    profile: 'optional',
    request: { path: INSTANCE_ID, token: 'tampered' },
    expect: { status: 401 },
  },
  {
    behaviour: 'optional: an expired token is unauthorized',
    source: '§2',
    profile: 'optional',
    request: { path: INSTANCE_ID, token: 'expired' },
    expect: { status: 401 },
  },
  {
    behaviour: 'required: a GET without a token is unauthorized',
    source: '§2 (I18, I19)',
    profile: 'required',
    request: { path: INSTANCE_ID },
    expect: { status: 401 },
  },
  {
    behaviour: 'required: a GET with a valid token is answered',
    source: '§2',
    profile: 'required',
    request: { path: INSTANCE_ID, token: 'valid' },
    expect: { status: 200, body: 'i-0aaaaaaaaaaaaaaa1' },
  },
  {
    behaviour: 'required: an expired token is unauthorized',
    source: '§2',
    profile: 'required',
    request: { path: INSTANCE_ID, token: 'expired' },
    expect: { status: 401 },
  },
  {
    behaviour: 'a GET with a token and X-Forwarded-For is forbidden',
    source: '§2 (I5)',
    profile: 'optional',
    request: { path: INSTANCE_ID, token: 'valid', headers: { 'X-Forwarded-For': '10.0.0.5' } },
    expect: EMPTY_FORBIDDEN,
  },
  {
    behaviour: 'an IMDSv1 GET with X-Forwarded-For is answered (proxies relied on it)',
    source: '§2 (inferred, I5, I7)',
    profile: 'optional',
    request: { path: INSTANCE_ID, headers: { 'X-Forwarded-For': '10.0.0.5' } },
    expect: { status: 200 },
  },
  {
    behaviour: 'endpoint disabled: a GET is forbidden',
    source: '§3',
    profile: 'disabled',
    request: { path: INSTANCE_ID },
    expect: EMPTY_FORBIDDEN,
  },
  {
    behaviour: 'endpoint disabled: the token PUT is forbidden',
    source: '§3 (cloud-init relies on it)',
    profile: 'disabled',
    request: { method: 'PUT', path: TOKEN_PATH, headers: { [TTL]: '60' } },
    expect: EMPTY_FORBIDDEN,
  },
  {
    behaviour: 'endpoint disabled: even unknown paths are forbidden',
    source: '§3',
    profile: 'disabled',
    request: { path: '/nothing/here' },
    expect: EMPTY_FORBIDDEN,
  },

  // §2, §6 HTTP shape, paths and listings
  {
    behaviour: 'HEAD returns the headers of GET and no body',
    source: '§2 (I16)',
    profile: 'optional',
    request: { method: 'HEAD', path: INSTANCE_ID },
    expect: { status: 200, headers: { 'content-length': '19' }, body: '' },
  },
  {
    behaviour: 'POST on a metadata path is not allowed',
    source: '§2 (decision)',
    profile: 'optional',
    request: { method: 'POST', path: INSTANCE_ID },
    expect: { status: 405, headers: { allow: 'GET, HEAD' } },
  },
  {
    behaviour: 'PUT on a metadata path is not allowed',
    source: '§2 (decision)',
    profile: 'optional',
    request: { method: 'PUT', path: INSTANCE_ID },
    expect: { status: 405 },
  },
  {
    behaviour: 'metadata leaves are text/plain with Accept-Ranges none',
    source: '§2 (C2)',
    profile: 'optional',
    request: { path: '/latest/meta-data/local-ipv4' },
    expect: {
      status: 200,
      headers: {
        'content-type': 'text/plain',
        'accept-ranges': 'none',
        'content-length': '12',
        server: 'EC2ws',
        connection: 'close',
      },
      body: '172.31.16.10',
    },
  },
  {
    behaviour: 'a leaf is reachable with a trailing slash',
    source: '§6.3 (botocore)',
    profile: 'optional',
    request: { path: '/latest/meta-data/placement/availability-zone/' },
    expect: { status: 200, body: 'us-east-1a' },
  },
  {
    behaviour: 'a directory is listed without its trailing slash too',
    source: '§6.3 (decision, I27)',
    profile: 'optional',
    request: { path: '/latest/meta-data/placement' },
    expect: { status: 200, body: 'availability-zone\navailability-zone-id\nregion' },
  },
  {
    behaviour: 'double slashes are folded',
    source: '§6.3 (ec2-metadata tool)',
    profile: 'optional',
    request: { path: '/latest//meta-data/reservation-id' },
    expect: { status: 200, body: /^r-[0-9a-f]{17}$/ },
  },
  {
    behaviour: 'an unknown path is the XHTML 404 page',
    source: '§6.4 (I10, I11, I26)',
    profile: 'optional',
    request: { path: '/latest/meta-data/no-such-thing' },
    expect: NOT_FOUND,
  },
  {
    behaviour: 'an unknown version is not found',
    source: '§6.1',
    profile: 'optional',
    request: { path: '/1999-01-01/meta-data/instance-id' },
    expect: NOT_FOUND,
  },
  {
    behaviour: 'a versioned root serves the category tree',
    source: '§6.1 (cloud-init)',
    profile: 'optional',
    request: { path: '/2009-04-04/meta-data/instance-id' },
    expect: { status: 200, body: 'i-0aaaaaaaaaaaaaaa1' },
  },
  {
    behaviour: 'dot-dot segments are not followed',
    source: '§6.3 (decision)',
    profile: 'optional',
    request: { path: '/latest/meta-data/iam/../instance-id' },
    expect: NOT_FOUND,
  },
  {
    behaviour: 'an encoded slash is not a separator',
    source: '§6.3 (decision)',
    profile: 'optional',
    request: { path: '/latest/meta-data%2Finstance-id' },
    expect: NOT_FOUND,
  },
  {
    behaviour: 'an encoded NUL is not found',
    source: 'hostile input',
    profile: 'optional',
    request: { path: '/latest/meta-data/instance-id%00' },
    expect: NOT_FOUND,
  },
  {
    behaviour: 'a 4 kB path is not found',
    source: 'hostile input',
    profile: 'optional',
    request: { path: `/latest/meta-data/${'a'.repeat(4096)}` },
    expect: NOT_FOUND,
  },
  {
    behaviour: 'the root lists the versions, oldest first, ending in latest',
    source: '§6.1',
    profile: 'optional',
    request: { path: '/' },
    expect: { status: 200, body: /^1\.0\n2007-01-19\n[\s\S]*\n2021-03-23\n[\s\S]*\nlatest$/ },
  },
  {
    behaviour: '/latest/ lists dynamic and meta-data without slashes',
    source: '§6.1 (decision: user-data only when present)',
    profile: 'optional',
    request: { path: '/latest/' },
    expect: { status: 200, body: 'dynamic\nmeta-data' },
  },
  {
    behaviour: '/latest/ lists user-data when the instance has some',
    source: '§6.1',
    profile: 'bare',
    request: { path: '/latest/' },
    expect: { status: 200, body: 'dynamic\nmeta-data\nuser-data' },
  },
  {
    behaviour: 'the meta-data listing has no trailing newline and marks directories',
    source: '§6.2, §6.5 (C2)',
    profile: 'optional',
    request: { path: '/latest/meta-data/' },
    expect: {
      status: 200,
      body: [
        'ami-id',
        'ami-launch-index',
        'ami-manifest-path',
        'block-device-mapping/',
        'events/',
        'hostname',
        'iam/',
        'identity-credentials/',
        'instance-action',
        'instance-id',
        'instance-life-cycle',
        'instance-type',
        'local-hostname',
        'local-ipv4',
        'mac',
        'network/',
        'placement/',
        'profile',
        'public-keys/',
        'reservation-id',
        'security-groups',
        'services/',
      ].join('\n'),
    },
  },

  // §6.5 categories
  {
    behaviour: 'user data is octet-stream with Accept-Ranges bytes',
    source: '§6.5 (C3)',
    profile: 'bare',
    request: { path: '/latest/user-data' },
    expect: {
      status: 200,
      headers: { 'content-type': 'application/octet-stream', 'accept-ranges': 'bytes' },
      body: '#!/bin/bash\necho hi',
    },
  },
  {
    behaviour: 'user data is reachable with a trailing slash',
    source: '§6.3 (C5)',
    profile: 'bare',
    request: { path: '/latest/user-data/' },
    expect: { status: 200, body: '#!/bin/bash\necho hi' },
  },
  {
    behaviour: 'no user data is a 404',
    source: '§6.4 (I11)',
    profile: 'optional',
    request: { path: '/latest/user-data' },
    expect: NOT_FOUND,
  },
  {
    behaviour: 'public-keys lists index=name',
    source: '§6.2 (AEMM #234)',
    profile: 'optional',
    request: { path: '/latest/meta-data/public-keys/' },
    expect: { status: 200, body: '0=dev-key' },
  },
  {
    behaviour: 'public-keys/0/ lists openssh-key',
    source: '§6.2',
    profile: 'optional',
    request: { path: '/latest/meta-data/public-keys/0/' },
    expect: { status: 200, body: 'openssh-key' },
  },
  {
    behaviour: 'the OpenSSH key is a real key line named after the key pair',
    source: '§6.2',
    profile: 'optional',
    request: { path: '/latest/meta-data/public-keys/0/openssh-key' },
    expect: {
      status: 200,
      body: /^ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI[A-Za-z0-9+/]{43} dev-key$/,
    },
  },
  {
    behaviour: 'no key pair, no public-keys',
    source: '§6.5',
    profile: 'bare',
    request: { path: '/latest/meta-data/public-keys/' },
    expect: NOT_FOUND,
  },
  {
    behaviour: 'tags are hidden while instanceMetadataTags is disabled',
    source: '§6.5 (I23)',
    profile: 'optional',
    request: { path: '/latest/meta-data/tags/instance/' },
    expect: NOT_FOUND,
  },
  {
    behaviour: 'tags/instance lists the tag keys when enabled',
    source: '§6.5 (S30)',
    profile: 'tags',
    request: { path: '/latest/meta-data/tags/instance' },
    expect: { status: 200, body: 'Name\nteam' },
  },
  {
    behaviour: 'a tag value is served as a leaf',
    source: '§6.5 (S30)',
    profile: 'tags',
    request: { path: '/latest/meta-data/tags/instance/Name' },
    expect: { status: 200, body: 'web' },
  },
  {
    behaviour: 'scheduled maintenance events are an empty JSON array',
    source: '§6.5 (I15)',
    profile: 'optional',
    request: { path: '/latest/meta-data/events/maintenance/scheduled' },
    expect: { status: 200, body: '[]' },
  },
  {
    behaviour: 'services/domain and partition',
    source: '§6.5',
    profile: 'optional',
    request: { path: '/latest/meta-data/services/partition' },
    expect: { status: 200, body: 'aws' },
  },
  {
    behaviour: 'the interface is listed by MAC with its fields',
    source: '§6.5',
    profile: 'optional',
    request: { path: '/latest/meta-data/network/interfaces/macs/' },
    expect: { status: 200, body: /^0e(:[0-9a-f]{2}){5}\/$/ },
  },
  {
    behaviour: 'the role listing is the role name, no newline',
    source: '§6.2 (botocore uses it verbatim)',
    profile: 'optional',
    request: { path: '/latest/meta-data/iam/security-credentials/', token: 'valid' },
    expect: { status: 200, body: 'app-role' },
  },
  {
    behaviour: 'role credentials in the exact JSON shape',
    source: '§7.1',
    profile: 'optional',
    request: { path: '/latest/meta-data/iam/security-credentials/app-role', token: 'valid' },
    expect: {
      status: 200,
      headers: { 'content-type': 'text/plain' },
      body: new RegExp(
        [
          '^\\{',
          '  "Code" : "Success",',
          '  "LastUpdated" : "\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\dZ",',
          '  "Type" : "AWS-HMAC",',
          '  "AccessKeyId" : "ASIA[A-Z2-7]{16}",',
          '  "SecretAccessKey" : "[A-Za-z0-9+/]{40}",',
          '  "Token" : "[A-Za-z0-9+/=]+",',
          '  "Expiration" : "\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\dZ"',
          '\\}$',
        ].join('\\n'),
      ),
    },
  },
  {
    behaviour: 'an unknown role is not found',
    source: '§7.2',
    profile: 'optional',
    request: { path: '/latest/meta-data/iam/security-credentials/other-role' },
    expect: NOT_FOUND,
  },
  {
    behaviour: 'the extended credentials path is not found, so SDKs fall back',
    source: '§7.2',
    profile: 'optional',
    request: { path: '/latest/meta-data/iam/security-credentials-extended/' },
    expect: NOT_FOUND,
  },
  {
    behaviour: 'iam/info names the instance profile',
    source: '§7.3 (C10)',
    profile: 'optional',
    request: { path: '/latest/meta-data/iam/info' },
    expect: {
      status: 200,
      body: /^\{\n  "Code" : "Success",\n  "LastUpdated" : "[^"]+",\n  "InstanceProfileArn" : "arn:aws:iam::123456789012:instance-profile\/app-role",\n  "InstanceProfileId" : "AIPA[0-9A-F]{17}"\n\}$/,
    },
  },
  {
    behaviour: 'no role, no iam category',
    source: '§6.5',
    profile: 'bare',
    request: { path: '/latest/meta-data/iam/' },
    expect: NOT_FOUND,
  },
  {
    behaviour: 'identity-credentials info carries the account id',
    source: '§7.3 (I29)',
    profile: 'optional',
    request: { path: '/latest/meta-data/identity-credentials/ec2/info' },
    expect: { status: 200, body: /"AccountId" : "123456789012"/ },
  },
  {
    behaviour: 'the instance identity role has credentials without an instance profile',
    source: '§7.3 (S8b)',
    profile: 'bare',
    request: {
      path: '/latest/meta-data/identity-credentials/ec2/security-credentials/ec2-instance',
    },
    expect: { status: 200, body: /"Code" : "Success"[\s\S]*"AccessKeyId" : "ASIA/ },
  },
  {
    behaviour: 'the dynamic listing',
    source: '§6.5 (S35)',
    profile: 'optional',
    request: { path: '/latest/dynamic/' },
    expect: { status: 200, body: 'fws/\ninstance-identity/' },
  },
  {
    behaviour: 'the instance-identity listing, in the user guide order',
    source: '§6.5 (S8)',
    profile: 'optional',
    request: { path: '/latest/dynamic/instance-identity/' },
    expect: { status: 200, body: 'rsa2048\npkcs7\ndocument\nsignature' },
  },
  {
    behaviour: 'signatures are served with Accept-Ranges bytes',
    source: '§6.5 (C6)',
    profile: 'optional',
    request: { path: '/latest/dynamic/instance-identity/signature' },
    expect: {
      status: 200,
      headers: { 'accept-ranges': 'bytes', 'content-type': 'text/plain' },
      body: /^[A-Za-z0-9+/=\n]+$/,
    },
  },
];
