'use strict';
/**
 * The simulator's own TLS: a local CA and a server certificate for 127.0.0.1 / localhost, made once per
 * checkout under .cache/simulator-tls (git-ignored). Processes that talk to the simulator trust the CA
 * through NODE_EXTRA_CA_CERTS (set by tools/with-simulator-ca.mjs), so every SDK runs its real TLS path.
 */
const fs = require('node:fs');
const path = require('node:path');
const forge = require('node-forge');

// Bump the folder's version when the certificate's content changes, so old checkouts make a new one.
const DIR = path.resolve(__dirname, '..', '..', '.cache', 'simulator-tls-v2');

function makeCert(subjectCn, issuer, issuerKey, isCa, keys) {
  const cert = forge.pki.createCertificate();
  cert.publicKey = keys.publicKey;
  cert.serialNumber = '01' + forge.util.bytesToHex(forge.random.getBytesSync(8));
  cert.validity.notBefore = new Date(Date.now() - 24 * 3600 * 1000);
  cert.validity.notAfter = new Date(Date.now() + 5 * 365 * 24 * 3600 * 1000);
  const subject = [
    { name: 'commonName', value: subjectCn },
    { name: 'organizationName', value: 'Defender Relay simulator' },
  ];
  cert.setSubject(subject);
  cert.setIssuer(issuer ?? subject);
  const extensions = isCa
    ? [
        { name: 'basicConstraints', cA: true, critical: true },
        { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true },
        { name: 'subjectKeyIdentifier' },
      ]
    : [
        { name: 'basicConstraints', cA: false },
        { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
        { name: 'extKeyUsage', serverAuth: true },
        {
          name: 'subjectAltName',
          altNames: [
            { type: 2, value: 'localhost' },
            { type: 2, value: 'vault.localhost' },
            { type: 2, value: '*.vault.localhost' },
            { type: 7, ip: '127.0.0.1' },
          ],
        },
      ];
  cert.setExtensions(extensions);
  cert.sign(issuerKey ?? keys.privateKey, forge.md.sha256.create());
  return cert;
}

function ensureSimulatorTls() {
  const caPath = path.join(DIR, 'ca.pem');
  const certPath = path.join(DIR, 'server-cert.pem');
  const keyPath = path.join(DIR, 'server-key.pem');
  if (!(fs.existsSync(caPath) && fs.existsSync(certPath) && fs.existsSync(keyPath))) {
    fs.mkdirSync(DIR, { recursive: true });
    const caKeys = forge.pki.rsa.generateKeyPair(2048);
    const ca = makeCert('Defender Relay simulator local CA', null, null, true, caKeys);
    const serverKeys = forge.pki.rsa.generateKeyPair(2048);
    const server = makeCert('localhost', ca.subject.attributes, caKeys.privateKey, false, serverKeys);
    const tmp = (p) => `${p}.${process.pid}.tmp`;
    fs.writeFileSync(tmp(keyPath), forge.pki.privateKeyToPem(serverKeys.privateKey), { mode: 0o600 });
    fs.writeFileSync(tmp(certPath), forge.pki.certificateToPem(server));
    fs.writeFileSync(tmp(caPath), forge.pki.certificateToPem(ca));
    // Renames are atomic: a concurrent reader sees either nothing or a complete set.
    fs.renameSync(tmp(keyPath), keyPath);
    fs.renameSync(tmp(certPath), certPath);
    fs.renameSync(tmp(caPath), caPath);
  }
  return {
    caPath,
    certPath,
    keyPath,
    ca: fs.readFileSync(caPath, 'utf8'),
    cert: fs.readFileSync(certPath, 'utf8'),
    key: fs.readFileSync(keyPath, 'utf8'),
  };
}

module.exports = { ensureSimulatorTls, SIMULATOR_TLS_DIR: DIR };
