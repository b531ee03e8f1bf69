import { createSign, generateKeyPairSync, randomBytes } from 'node:crypto';
import forge from 'node-forge';
import type { StateStore } from '../store/stateStore.ts';

/**
 * Signs instance identity documents the way EC2 does, with a key imdsd generates once and keeps
 * in the state store. Verifiers use the certificate `imdsd identity-cert` prints, exactly as
 * they use AWS's published certificate (reference §6.5, S8):
 *   - `pkcs7` and `rsa2048`: detached PKCS#7 signedData (SHA-256, RSA-2048), base64 in
 *     64-column lines, no certificate inside (verify with `openssl smime -verify -content`);
 *   - `signature`: a bare base64 RSA-SHA256 signature over the document bytes.
 */
export interface IdentitySigner {
  readonly certificatePem: string;
  pkcs7(document: string): string;
  signature(document: string): string;
}

interface SigningMaterial {
  privateKeyPem: string;
  certificatePem: string;
  forgeKey: forge.pki.rsa.PrivateKey;
  forgeCertificate: forge.pki.Certificate;
}

const KEY_NAME = 'identity-signing-key';
const CERTIFICATE_NAME = 'identity-signing-certificate';
const CERTIFICATE_YEARS = 10;

/**
 * The key is generated (and kept) on first use, not at startup: an RSA key costs more than the
 * rest of a cold start, and most callers never ask for a signature.
 */
export function loadIdentitySigner(store: StateStore): IdentitySigner {
  let material: SigningMaterial | undefined;

  const signingMaterial = (): SigningMaterial => {
    if (material !== undefined) return material;
    const privateKeyPem = store.remembered(KEY_NAME, () => Buffer.from(generatePrivateKeyPem())).toString();
    const certificatePem = store
      .remembered(CERTIFICATE_NAME, () => Buffer.from(selfSignedCertificatePem(privateKeyPem)))
      .toString();
    material = {
      privateKeyPem,
      certificatePem,
      forgeKey: forge.pki.privateKeyFromPem(privateKeyPem),
      forgeCertificate: forge.pki.certificateFromPem(certificatePem),
    };
    return material;
  };

  return {
    get certificatePem() {
      return signingMaterial().certificatePem;
    },

    pkcs7(document) {
      const { forgeKey, forgeCertificate } = signingMaterial();
      const signedData = forge.pkcs7.createSignedData();
      signedData.content = forge.util.createBuffer(document, 'utf8');
      signedData.addSigner({
        key: forgeKey,
        certificate: forgeCertificate,
        digestAlgorithm: forge.pki.oids['sha256'] as string,
        authenticatedAttributes: [
          { type: forge.pki.oids['contentType'] as string, value: forge.pki.oids['data'] as string },
          { type: forge.pki.oids['messageDigest'] as string },
          { type: forge.pki.oids['signingTime'] as string, value: new Date() as unknown as string },
        ],
      });
      signedData.sign({ detached: true });

      const der = forge.asn1.toDer(signedData.toAsn1()).getBytes();
      return base64Lines(Buffer.from(der, 'binary'));
    },

    signature(document) {
      return base64Lines(createSign('sha256').update(document).sign(signingMaterial().privateKeyPem));
    },
  };
}

function generatePrivateKeyPem(): string {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return privateKey.export({ format: 'pem', type: 'pkcs1' }).toString();
}

function selfSignedCertificatePem(privateKeyPem: string): string {
  const privateKey = forge.pki.privateKeyFromPem(privateKeyPem);
  const certificate = forge.pki.createCertificate();
  certificate.publicKey = forge.pki.setRsaPublicKey(privateKey.n, privateKey.e);
  certificate.serialNumber = `01${randomBytes(8).toString('hex')}`;

  const now = new Date();
  certificate.validity.notBefore = now;
  certificate.validity.notAfter = new Date(now.getTime() + CERTIFICATE_YEARS * 365 * 24 * 3600 * 1000);

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
