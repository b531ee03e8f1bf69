import { createSign, generateKeyPair, generateKeyPairSync, randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import type Forge from 'node-forge';
import type { StateStore } from '../store/stateStore.ts';

/**
 * Signs instance identity documents the way EC2 does, with a key imdsd generates once and keeps
 * in the state store. Verifiers use the certificate `imdsd identity-cert` prints, exactly as
 * they use AWS's published certificate (reference §6.5, S8):
 *   - `pkcs7` and `rsa2048`: detached PKCS#7 signedData (SHA-256, RSA-2048), base64 in
 *     64-column lines, no certificate inside (verify with `openssl smime -verify -content`);
 *   - `signature`: a bare base64 RSA-SHA256 signature over the document bytes.
 *
 * Nothing is generated or parsed until first needed: an RSA key takes 50 ms to over a second to
 * generate, and node-forge (needed for PKCS#7 and the certificate only) 30 ms or more to load,
 * while most callers never ask for a signature. prepare() generates a missing key off the main
 * thread; the signing methods generate one on the spot, so callers that must not block the
 * event loop await prepare() first.
 */
export interface IdentitySigner {
  readonly certificatePem: string;
  pkcs7(document: string): string;
  signature(document: string): string;
  /**
   * Generates the key, if the store has none yet, on the thread pool; never rejects. Every call
   * while one generation runs waits for that one.
   */
  prepare(): Promise<void>;
}

const KEY_NAME = 'identity-signing-key';
const CERTIFICATE_NAME = 'identity-signing-certificate';
const CERTIFICATE_YEARS = 10;
const RSA_KEY = {
  modulusLength: 2048,
  publicKeyEncoding: { format: 'pem', type: 'spki' },
  privateKeyEncoding: { format: 'pem', type: 'pkcs1' },
} as const;

const requireLazily = createRequire(import.meta.url);
const loadForge = (): typeof Forge => requireLazily('node-forge') as typeof Forge;

export function loadIdentitySigner(store: StateStore): IdentitySigner {
  let privateKeyPem: string | undefined;
  let certificatePem: string | undefined;
  let forgeSigner:
    | { key: Forge.pki.rsa.PrivateKey; certificate: Forge.pki.Certificate }
    | undefined;
  let generating: Promise<void> | undefined;

  const keyPem = (): string =>
    (privateKeyPem ??= store
      .remembered(KEY_NAME, () => Buffer.from(generatePrivateKeyPem()))
      .toString());
  const certificate = (): string =>
    (certificatePem ??= store
      .remembered(CERTIFICATE_NAME, () => Buffer.from(selfSignedCertificatePem(keyPem())))
      .toString());

  return {
    get certificatePem() {
      return certificate();
    },

    pkcs7(document) {
      const forge = loadForge();
      forgeSigner ??= {
        key: forge.pki.privateKeyFromPem(keyPem()),
        certificate: forge.pki.certificateFromPem(certificate()),
      };

      const signedData = forge.pkcs7.createSignedData();
      signedData.content = forge.util.createBuffer(document, 'utf8');
      signedData.addSigner({
        key: forgeSigner.key,
        certificate: forgeSigner.certificate,
        digestAlgorithm: forge.pki.oids['sha256'] as string,
        authenticatedAttributes: [
          {
            type: forge.pki.oids['contentType'] as string,
            value: forge.pki.oids['data'] as string,
          },
          { type: forge.pki.oids['messageDigest'] as string },
          { type: forge.pki.oids['signingTime'] as string, value: new Date() as unknown as string },
        ],
      });
      signedData.sign({ detached: true });

      const der = forge.asn1.toDer(signedData.toAsn1()).getBytes();
      return base64Lines(Buffer.from(der, 'binary'));
    },

    signature(document) {
      return base64Lines(createSign('sha256').update(document).sign(keyPem()));
    },

    prepare() {
      privateKeyPem ??= store.recall(KEY_NAME)?.toString();
      if (privateKeyPem !== undefined) return Promise.resolve();
      return (generating ??= new Promise((resolve) => {
        generateKeyPair('rsa', RSA_KEY, (error, _publicKey, generated) => {
          // A key another start stored meanwhile wins. On a failure (or a store closed by then)
          // nothing is lost: the key is made when first needed, and that error surfaces there.
          try {
            if (error === null && privateKeyPem === undefined) {
              privateKeyPem = store.remembered(KEY_NAME, () => Buffer.from(generated)).toString();
            }
          } catch {
            // see above
          }
          resolve();
        });
      }));
    },
  };
}

function generatePrivateKeyPem(): string {
  return generateKeyPairSync('rsa', RSA_KEY).privateKey;
}

function selfSignedCertificatePem(privateKeyPem: string): string {
  const forge = loadForge();
  const privateKey = forge.pki.privateKeyFromPem(privateKeyPem);
  const certificate = forge.pki.createCertificate();
  certificate.publicKey = forge.pki.setRsaPublicKey(privateKey.n, privateKey.e);
  certificate.serialNumber = `01${randomBytes(8).toString('hex')}`;

  const now = new Date();
  certificate.validity.notBefore = now;
  certificate.validity.notAfter = new Date(
    now.getTime() + CERTIFICATE_YEARS * 365 * 24 * 3600 * 1000,
  );

  const subject = [
    { name: 'commonName', value: 'imdsd instance identity' },
    { name: 'organizationName', value: 'imdsd emulated EC2' },
  ];
  certificate.setSubject(subject);
  certificate.setIssuer(subject);
  certificate.sign(privateKey, forge.md.sha256.create());
  return forge.pki.certificateToPem(certificate).replaceAll('\r\n', '\n');
}

/** PEM body style: base64 in lines of 64 characters, no trailing newline. */
function base64Lines(bytes: Buffer): string {
  return (bytes.toString('base64').match(/.{1,64}/g) ?? []).join('\n');
}
